/** @jsxRuntime automatic @jsxImportSource preact */
import { render } from 'preact';
import { App } from './app.tsx';
import './styles.css';

const root = document.getElementById('app')!;
// Replaces the "Loading the explorer…" text index.html shows until the script runs.
root.textContent = '';
render(<App />, root);
