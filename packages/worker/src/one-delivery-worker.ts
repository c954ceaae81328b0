/**
 * BullMQ's Worker with at most one delivery of a job in flight in this process.
 *
 * A job comes back while an earlier delivery of it is still here when its lock lapsed
 * (Redis was away, the event loop stalled): the stalled check put it back in the wait
 * list and this process fetched it again. BullMQ renews locks *by job id*, and the end
 * of a delivery — after the processor, once its outcome is written or has failed to be
 * written, which can take a retry delay after a connection error — stops renewing that
 * id: the newer delivery's lock would lapse too, the job would "stall" a second time
 * and, with maxStalledCount 1, fail for good while the newer attempt still runs.
 *
 * So a newer delivery never reaches the processor while an older one is in flight: it
 * has the older attempt aborted, waits for the older delivery's whole end (keeping its
 * own lock alive meanwhile: BullMQ does not renew it, and a lapse would count as a
 * stall), and goes back to the wait list untouched; the next delivery starts clean.
 */
import { type Job, Worker } from "bullmq";

export class OneDeliveryWorker<Data, Result> extends Worker<Data, Result> {
  /** Each job id's delivery in flight here: settles when BullMQ is done with it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /** Told when a job came back while its older delivery is in flight here (abort that attempt). */
  onRedelivery: (jobId: string) => void = () => {};
  /** Told when handing a redelivered job back failed (its lock lapsed meanwhile: the stalled check takes it). */
  onHandBackFailed: (jobId: string, error: unknown) => void = () => {};

  override async processJob(
    job: Job<Data, Result>,
    token: string,
    fetchNextCallback?: () => boolean,
  ): ReturnType<Worker<Data, Result>["processJob"]> {
    const id = job.id ?? "";
    const older = this.inFlight.get(id);
    if (older) {
      this.onRedelivery(id);
      const lockMs = this.opts.lockDuration ?? 30_000;
      const keepLock = setInterval(() => void job.extendLock(token, lockMs).catch(() => {}), lockMs / 2);
      try {
        await older.catch(() => {});
      } finally {
        clearInterval(keepLock);
      }
      await job.moveToWait(token).catch((error: unknown) => this.onHandBackFailed(id, error));
      return undefined;
    }
    const delivery = super.processJob(job, token, fetchNextCallback);
    this.inFlight.set(id, delivery);
    try {
      return await delivery;
    } finally {
      this.inFlight.delete(id);
    }
  }
}
