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
    /// The workers: background threads that wait between loops, first spinning for <see cref="SpinMicroseconds"/> (the
    /// next GEMM of a forward pass usually starts within that time, and a spinning worker starts at once), then asleep on
    /// their own semaphore. A loop publishes the body, the task count and a shared task counter, then a new generation
    /// number together with how many workers may take part, and wakes those that sleep. A worker joins the loop only
    /// while it is open; the calling thread works too, closes the loop when no task is left to take, and waits only for
    /// the workers that joined. So a worker that wakes late (asleep, or descheduled on a busy machine) never holds the
    /// loop up: the caller has done its share of the tasks meanwhile.
    /// </summary>
    static class WorkerPool
    {
        /// <summary>How long an idle worker spins before it sleeps (ONNX Runtime's workers also spin between ops).</summary>
        const int SpinMicroseconds = 50;
        static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

        /// <summary>1 while a loop runs (taken with a compare-exchange, so a nested loop on the same thread sees it too).</summary>
        static int s_busy;
        static readonly List<Worker> s_workers = [];
        [ThreadStatic] static bool t_isWorker;

        // the running loop (written while s_busy is held, before s_loop announces it)
        static IParallelBody? s_body;
        static int s_count;
        static int s_next;
        static ExceptionDispatchInfo? s_error;
        /// <summary>Workers that joined the loop, plus <see cref="Closed"/> once the caller has closed it.</summary>
        static int s_joined;
        /// <summary>Joined workers that have finished.</summary>
        static int s_finished;
        const int Closed = 1 << 30;
        static int s_generation;
        /// <summary>(generation &lt;&lt; 32) | participating workers, read by the workers as one value, so a worker
        /// always sees the participant count of the generation it sees.</summary>
        static long s_loop;

        public static bool TryRun(int count, IParallelBody body, int threads)
        {
            if (t_isWorker || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                int workers = threads - 1;
                while (s_workers.Count < workers) s_workers.Add(new Worker(s_workers.Count, s_generation));
                s_body = body;
                s_count = count;
                s_next = 0;
                s_error = null;
                s_finished = 0;
                Volatile.Write(ref s_joined, 0);   // open (release: the fields above are visible to whoever joins)
                s_generation++;
                Interlocked.Exchange(ref s_loop, ((long)s_generation << 32) | (uint)workers);   // full fence: publishes the loop
                for (int w = 0; w < workers; w++) s_workers[w].WakeIfAsleep();
                Work();
                // every task is taken: close the loop, then wait for the workers that joined (they are running tasks,
                // so the wait is at most one task long): spin, then yield the core, never Sleep(1) (SpinWait's default
                // after ~20 rounds, which added a millisecond to loops whose last task took a little longer)
                int joined = Interlocked.Or(ref s_joined, Closed) & ~Closed;
                var wait = new SpinWait();
                while (Volatile.Read(ref s_finished) != joined) wait.SpinOnce(sleep1Threshold: -1);
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
            readonly int _index;
            int _seen;
            /// <summary>1 while the worker is (about to be) asleep on <see cref="_wake"/>; whoever swaps it back to 0
            /// owns the wake-up: the loop releases the semaphore, or the worker itself goes on without waiting.</summary>
            int _asleep;

            public Worker(int index, int generation)
            {
                _index = index;
                _seen = generation;
                var thread = new Thread(Loop) { IsBackground = true, Name = $"MixLens kernel worker {index + 1}" };
                thread.Start();
            }

            public void WakeIfAsleep()
            {
                if (Interlocked.Exchange(ref _asleep, 0) == 1) _wake.Release();
            }

            void Loop()
            {
                t_isWorker = true;
                while (true)
                {
                    WaitForNextLoop();
                    long loop = Volatile.Read(ref s_loop);
                    _seen = (int)(loop >> 32);
                    if (_index >= (int)(uint)loop || !TryJoin()) continue;   // not needed, or already closed
                    Work();
                    Interlocked.Increment(ref s_finished);
                }
            }

            /// <summary>Returns once a generation after <see cref="_seen"/> has been announced.</summary>
            void WaitForNextLoop()
            {
                long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
                while (Generation() == _seen)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    Interlocked.Exchange(ref _asleep, 1);   // full fence before the re-check (pairs with the loop's publish)
                    if (Generation() != _seen)
                    {
                        // a loop started meanwhile: if it already swapped _asleep back, it released the semaphore too
                        if (Interlocked.Exchange(ref _asleep, 0) == 0) _wake.Wait();
                        return;
                    }
                    _wake.Wait();
                    return;
                }
            }

            static int Generation() => (int)(Volatile.Read(ref s_loop) >> 32);

            /// <summary>Counts this worker in, unless the caller has closed the loop. A worker that joins a loop newer
            /// than the generation it read works for that newer loop, which is just as right: it runs that loop's tasks
            /// and is waited for by that loop's caller.</summary>
            static bool TryJoin()
            {
                int v = Volatile.Read(ref s_joined);
                while ((v & Closed) == 0)
                {
                    int seen = Interlocked.CompareExchange(ref s_joined, v + 1, v);
                    if (seen == v) return true;
                    v = seen;
                }
                return false;
            }
        }
    }
}

/// <summary>
/// <see cref="Parallelism.For"/> on a struct body (a kernel call's pinned operands and how its tasks split the work)
/// without allocating: the body is copied into a job object cached per calling thread and body type, and the loop
/// calls the job, which calls the struct's <c>Invoke</c> directly (no boxing, no virtual call, inlinable).
/// </summary>
internal static class ParallelJob
{
    /// <summary>Runs <c>body.Invoke(i)</c> for every i in [0, count), as <see cref="Parallelism.For"/> does
    /// (<paramref name="maxThreads"/> likewise); exceptions are rethrown the same way.</summary>
    public static void Run<TBody>(int count, in TBody body, int maxThreads = 0) where TBody : struct, IParallelBody
        => Job<TBody>.Run(count, body, maxThreads);

    sealed class Job<TBody> : IParallelBody where TBody : struct, IParallelBody
    {
        /// <summary>This thread's job while no call of it runs; null while one does (a nested call then uses a new one).</summary>
        [ThreadStatic] static Job<TBody>? t_idle;

        TBody _body;

        public static void Run(int count, in TBody body, int maxThreads)
        {
            var job = t_idle ?? new Job<TBody>();
            t_idle = null;
            job._body = body;
            try { Parallelism.For(count, job, maxThreads); }
            finally
            {
                job._body = default;   // drop the operands' pointers
                t_idle = job;
            }
        }

        public void Invoke(int index) => _body.Invoke(index);
    }
}
