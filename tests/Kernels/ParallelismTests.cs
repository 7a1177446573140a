using System.Collections.Concurrent;
using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

public class ParallelismTests
{
    sealed class Recorder(int count) : IParallelBody
    {
        public readonly int[] Calls = new int[count];
        public readonly ConcurrentDictionary<int, bool> Threads = new();
        public void Invoke(int index)
        {
            Interlocked.Increment(ref Calls[index]);
            Threads[Environment.CurrentManagedThreadId] = true;
        }
    }

    [Theory]
    [InlineData(0), InlineData(1), InlineData(2), InlineData(3), InlineData(1000)]
    public void For_AnyCount_RunsEveryIndexOnce(int count)
    {
        var body = new Recorder(count);
        Parallelism.For(count, body);
        Assert.All(body.Calls, c => Assert.Equal(1, c));
    }

    [Fact]
    public void For_MaxThreadsOne_RunsOnTheCallingThread()
    {
        var body = new Recorder(100);
        Parallelism.For(100, body, maxThreads: 1);
        Assert.Equal([Environment.CurrentManagedThreadId], body.Threads.Keys);
    }

    sealed class Nested : IParallelBody
    {
        public readonly Recorder Inner = new(64 * 8);
        public void Invoke(int index) => Parallelism.For(64, new Offset(Inner, index * 64));
        sealed class Offset(Recorder r, int start) : IParallelBody { public void Invoke(int i) => r.Invoke(start + i); }
    }

    [Fact]
    public void For_NestedLoops_RunEveryIndexOnce()
    {
        var body = new Nested();
        Parallelism.For(8, body);
        Assert.All(body.Inner.Calls, c => Assert.Equal(1, c));
    }

    sealed class Throws : IParallelBody
    {
        public void Invoke(int index) { if (index == 5) throw new InvalidOperationException("task 5"); }
    }

    [Fact]
    public void For_TaskThrows_RethrowsOnTheCaller()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Parallelism.For(50, new Throws()));
        Assert.Equal("task 5", ex.Message);
        // the pool still works afterwards
        var body = new Recorder(10);
        Parallelism.For(10, body);
        Assert.All(body.Calls, c => Assert.Equal(1, c));
    }

    [Fact]
    public void MaxThreads_ZeroOrNegative_RestoresProcessorCount()
    {
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Assert.Equal(1, Parallelism.MaxThreads);
            Parallelism.MaxThreads = 0;
            Assert.Equal(Environment.ProcessorCount, Parallelism.MaxThreads);
            Parallelism.MaxThreads = -3;
            Assert.Equal(Environment.ProcessorCount, Parallelism.MaxThreads);
        }
        finally { Parallelism.MaxThreads = before; }
    }
}

public class ParallelismStressTests
{
    sealed class Counter : IParallelBody
    {
        public int Calls;
        public void Invoke(int index) => Interlocked.Increment(ref Calls);
    }

    /// <summary>Many short loops back to back, with the thread count changing, some right after a pause (workers
    /// asleep) and most while they still spin: every loop runs every index exactly once and none hangs.</summary>
    [Fact]
    public void For_ManyShortLoopsWithChangingThreadCounts_RunEveryIndexOnce()
    {
        var body = new Counter();
        long expected = 0;
        var rnd = new Random(3);
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 4;   // three workers, also on a 2-core machine
            for (int loop = 0; loop < 20_000; loop++)
            {
                int count = rnd.Next(0, 9), threads = rnd.Next(1, 5);
                if (loop % 2000 == 0) Thread.Sleep(2);
                Parallelism.For(count, body, threads);
                expected += count;
                Assert.Equal(expected, body.Calls);
            }
        }
        finally { Parallelism.MaxThreads = before; }
    }
}
