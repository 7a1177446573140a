using System.Runtime.ExceptionServices;

namespace MixLens.Kernels;

/// <summary>One parallel loop's body: <see cref="Invoke"/> runs task <c>index</c> of <c>count</c>.</summary>
/// <remarks>Implemented by a reusable object (a GEMM call's operands, an attention layer's buffers) so that starting a
/// loop allocates nothing; see <see cref="Parallelism.For"/>.</remarks>
public interface IParallelBody
{
    /// <summary>Runs task <paramref name="index"/>; called once per index, from any participating thread.</summary>
    void Invoke(int index);
}

/// <summary>
/// How many threads the kernels use, and the fork/join loop they share.
/// </summary>
/// <remarks>
/// <para><see cref="MaxThreads"/> is the one knob: 1 runs every kernel on the calling thread, the default
/// (<see cref="Environment.ProcessorCount"/>) uses every core. Benchmarks set it to compare 1 thread with all cores:
/// <code>
///   Parallelism.MaxThreads = 1;   // single-threaded from here on (process-wide)
///   Parallelism.MaxThreads = 0;   // back to the default, Environment.ProcessorCount
/// </code></para>
/// <para>The loop (<see cref="For"/>) runs on MaxThreads − 1 dedicated background workers plus the calling thread,
/// which takes tasks too; tasks are handed out one at a time from a shared counter, so a core slowed by other processes
/// simply takes fewer. Starting a loop allocates nothing (the workers, their wake-up semaphores and the body object are
/// reused), unlike <c>Parallel.For</c>, whose per-call allocations the encoder's no-allocation forward cannot afford.
/// One loop runs at a time: a loop started while another runs (from a second thread, or nested inside a task) runs on
/// its calling thread alone, which is correct and, on a machine whose cores are already busy, no slower.</para>
/// </remarks>
public static class Parallelism
{
    static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>
    /// The most threads a kernel call uses, the calling thread included; at least 1. Setting 0 or less restores the
    /// default, <see cref="Environment.ProcessorCount"/>. Takes effect for loops started after the change.
    /// </summary>
    public static int MaxThreads
    {
        get => Volatile.Read(ref s_maxThreads);
        set => Volatile.Write(ref s_maxThreads, value <= 0 ? Environment.ProcessorCount : value);
    }

    /// <summary>
    /// Runs <c>body.Invoke(i)</c> for every i in [0, count), on up to <paramref name="maxThreads"/> threads
    /// (0: <see cref="MaxThreads"/>; capped by it), and returns when all are done. The first exception a task throws is
    /// rethrown here after the other tasks finish.
    /// </summary>
    public static void For(int count, IParallelBody body, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(body);
        int threads = Math.Min(Math.Min(maxThreads <= 0 ? MaxThreads : maxThreads, MaxThreads), count);
        if (threads <= 1 || !WorkerPool.TryRun(count, body, threads))
            for (int i = 0; i < count; i++) body.Invoke(i);
    }

    /// <summary>
    /// The workers: background threads that sleep on their own semaphore between loops. A loop publishes the body,
    /// the task count and a shared task counter, wakes the workers it needs, works itself, and waits until every woken
    /// worker has finished.
    /// </summary>
    static class WorkerPool
    {
        /// <summary>1 while a loop runs (taken with a compare-exchange, so a nested loop on the same thread sees it too).</summary>
        static int s_busy;
        static readonly List<Worker> s_workers = [];
        static readonly ManualResetEventSlim s_done = new(false);
        [ThreadStatic] static bool t_isWorker;

        // the running loop (written while s_busy is held, before the workers are woken)
        static IParallelBody? s_body;
        static int s_count;
        static int s_next;
        static int s_pending;
        static ExceptionDispatchInfo? s_error;

        public static bool TryRun(int count, IParallelBody body, int threads)
        {
            if (t_isWorker || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                while (s_workers.Count < threads - 1) s_workers.Add(new Worker(s_workers.Count));
                s_body = body;
                s_count = count;
                s_next = 0;
                s_error = null;
                s_pending = threads - 1;
                s_done.Reset();
                for (int w = 0; w < threads - 1; w++) s_workers[w].Wake();
                Work();
                s_done.Wait();
                s_body = null;
                s_error?.Throw();
                return true;
            }
            finally
            {
                Volatile.Write(ref s_busy, 0);
            }
        }

        /// <summary>Takes tasks from the shared counter until none are left.</summary>
        static void Work()
        {
            var body = s_body!;
            int count = s_count;
            int i;
            while ((i = Interlocked.Increment(ref s_next) - 1) < count)
            {
                try
                {
                    body.Invoke(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null);
                    Volatile.Write(ref s_next, count);   // no new tasks; the running ones finish
                }
            }
        }

        sealed class Worker
        {
            readonly SemaphoreSlim _wake = new(0);

            public Worker(int index)
            {
                var thread = new Thread(Loop) { IsBackground = true, Name = $"MixLens kernel worker {index + 1}" };
                thread.Start();
            }

            public void Wake() => _wake.Release();

            void Loop()
            {
                t_isWorker = true;
                while (true)
                {
                    _wake.Wait();
                    Work();
                    if (Interlocked.Decrement(ref s_pending) == 0) s_done.Set();
                }
            }
        }
    }
}
