using System.Runtime.ExceptionServices;

namespace MixLens.Analysis.Corpus;

/// <summary>
/// Runs a computation over a list on several worker threads and hands the results to a fold strictly in list order,
/// as soon as each one and all before it are ready. At most <c>window</c> items are in flight (computed or being
/// computed but not yet folded), which bounds memory however uneven the items are. Items are taken in order, and only
/// after a window slot is free, so the oldest unfinished item is always being computed: the window cannot deadlock.
/// </summary>
public static class OrderedParallel
{
    /// <summary>
    /// Computes <paramref name="compute"/>(item) for every item on <paramref name="workers"/> threads and calls
    /// <paramref name="fold"/>(index, result) in index order, never concurrently. Returns true when every item was
    /// folded, false when <paramref name="cancellation"/> stopped it first: then a prefix of the items has been folded
    /// and nothing after it. Either way it returns only after every worker thread has ended (after a cancellation,
    /// once the items being computed are finished; their results are dropped), so the caller may release what
    /// <paramref name="compute"/> uses (e.g. dispose a memory-mapped model) as soon as it returns.
    /// </summary>
    /// <param name="workers">worker threads (at least 1).</param>
    /// <param name="window">items in flight at most (default 2 × workers).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workers"/> or <paramref name="window"/> below 1.</exception>
    /// <remarks>An exception from <paramref name="compute"/> or <paramref name="fold"/> stops the run and is rethrown
    /// here (the first one, unwrapped), after the items before it have been folded.</remarks>
    public static bool Run<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, TResult> compute, Action<int, TResult> fold,
        int workers, CancellationToken cancellation = default, int? window = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        int capacity = window ?? 2 * workers;
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1, nameof(window));
        if (items.Count == 0) return true;

        var slots = new (bool Ready, TResult Value)[items.Count];
        var gate = new object();
        using var slotsFree = new SemaphoreSlim(capacity);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // set by the last fold; a failure or a cancellation wakes the caller through stop instead. Workers still
        // waiting for a window slot at the end (window < workers) leave when the caller then cancels stop.
        using var finished = new ManualResetEventSlim(false);
        int taken = 0, folded = 0;
        ExceptionDispatchInfo? failure = null;

        void Work()
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    slotsFree.Wait(stop.Token);
                    int index;
                    lock (gate)
                    {
                        if (taken >= items.Count) break;
                        index = taken++;
                    }
                    var result = compute(items[index]);
                    lock (gate)
                    {
                        if (stop.IsCancellationRequested) break;
                        slots[index] = (true, result);
                        while (folded < items.Count && slots[folded].Ready)
                        {
                            var value = slots[folded].Value;
                            slots[folded] = default;   // release the result's memory
                            fold(folded, value);
                            folded++;
                            slotsFree.Release();
                        }
                        if (folded == items.Count) finished.Set();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e)
            {
                lock (gate) failure ??= ExceptionDispatchInfo.Capture(e);
                stop.Cancel();
            }
        }

        var threads = Enumerable.Range(0, workers)
            .Select(w => new Thread(Work) { IsBackground = true, Name = $"mixlens-worker-{w}" }).ToArray();
        foreach (var thread in threads) thread.Start();
        try
        {
            finished.Wait(stop.Token);
        }
        catch (OperationCanceledException) { }
        bool complete;
        lock (gate)
        {
            complete = folded == items.Count;
            stop.Cancel();   // no fold after this point
        }
        foreach (var thread in threads) thread.Join();   // the items in progress finish; nothing touches them afterwards
        failure?.Throw();
        return complete;
    }
}
