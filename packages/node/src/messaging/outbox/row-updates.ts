import type { DeliveryLane } from './outbox-storage.js';
import type { MessageOutcome, RequestFailure } from './delivery-outcome.js';
import type { OutboxRow, RowUpdate } from './outbox-row.js';

/** When the rows of one delivery request are tried again. */
export interface RetrySchedule {
  now: number;
  /** When a message still to be delivered is tried again (one time for the whole request: see DeliveryWorker). */
  retryAt: number;
  /** When a delivered message's receipt is asked for again, after `attempts` asks. */
  receiptRetryAt(attempts: number): number;
}

function unchanged(row: OutboxRow): RowUpdate {
  const u: RowUpdate = {
    id: row.id,
    state: row.state,
    attempts: row.attempts,
    nextAttemptMs: row.nextAttemptMs,
    receiptAttempts: row.receiptAttempts,
  };
  if (row.error) u.error = row.error;
  if (row.delivery) u.delivery = row.delivery;
  return u;
}

/** A delivered message whose receipt is still to come: asked for again later, with why it did not come. */
function receiptLater(
  row: OutboxRow,
  error: RowUpdate['error'],
  at: RetrySchedule,
  delivery = row.delivery,
): RowUpdate {
  const u = unchanged(row);
  u.state = 'delivered';
  u.receiptAttempts = row.receiptAttempts + 1;
  u.nextAttemptMs = at.receiptRetryAt(u.receiptAttempts);
  if (delivery) u.delivery = delivery;
  if (error) u.error = error;
  else delete u.error;
  return u;
}

/** What one message's answer changes in its row. */
export function rowAfterAnswer(
  row: OutboxRow,
  lane: DeliveryLane,
  outcome: MessageOutcome,
  at: RetrySchedule,
): RowUpdate {
  if (lane === 'receipt') {
    if (outcome.kind === 'delivered' && outcome.delivery.receipt) {
      const u = unchanged(row);
      u.delivery = outcome.delivery;
      u.receiptAttempts = row.receiptAttempts + 1;
      delete u.error;
      return u;
    }
    const error = outcome.kind === 'delivered' ? outcome.receiptError : outcome.error;
    return receiptLater(row, error, at);
  }
  const u = unchanged(row);
  u.attempts = row.attempts + 1;
  switch (outcome.kind) {
    case 'delivered':
      u.state = 'delivered';
      u.delivery = outcome.delivery;
      if (outcome.receiptError) u.error = outcome.receiptError;
      else delete u.error;
      // Without its receipt, the receipt lane asks for it again (a duplicate answer carries it).
      if (!outcome.delivery.receipt) u.nextAttemptMs = at.receiptRetryAt(1);
      return u;
    case 'retry':
      u.nextAttemptMs = at.retryAt;
      if (outcome.error) u.error = outcome.error;
      else delete u.error;
      return u;
    case 'refused':
    case 'expired':
      u.state = outcome.kind;
      u.error = outcome.error;
      return u;
  }
}

/** What a failure of the whole request changes in each of its rows. */
export function rowAfterFailure(
  row: OutboxRow,
  lane: DeliveryLane,
  failure: RequestFailure,
  at: RetrySchedule,
): RowUpdate {
  if (lane === 'receipt') return receiptLater(row, failure.error, at);
  const u = unchanged(row);
  u.attempts = row.attempts + 1;
  u.error = failure.error;
  if (failure.retry) u.nextAttemptMs = at.retryAt;
  else u.state = 'refused';
  return u;
}

/** Whether the row needs nothing more in this lane (the worker goes on to the stream's next messages). */
export function doneInLane(u: RowUpdate, lane: DeliveryLane): boolean {
  return lane === 'deliver' ? u.state !== 'sealed' : u.delivery?.receipt !== undefined;
}
