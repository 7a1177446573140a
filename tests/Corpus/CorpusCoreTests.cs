using System.Text;
using MixLens.Analysis.Corpus;

namespace MixLens.Tests.Corpus;

/// <summary>The corpus reader and the ordered parallel runner on their own.</summary>
public class CorpusCoreTests
{
    static IReadOnlyList<CorpusEntry> Parse(string s) => CorpusInput.Parse(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Parse_CrLfBomAndFinalNewline_LinesNumberedFromOne()
    {
        var entries = Parse("\uFEFF{\"text\":\"a\"}\r\n{\"text\":\"b\",\"text_pair\":null}\n{\"text\":\"c\",\"text_pair\":\"d\",\"id\":3}\n");
        Assert.Equal(
            [new CorpusExample(1, "a", null), new CorpusExample(2, "b", null), new CorpusExample(3, "c", "d")],
            entries.Cast<CorpusExample>());
    }

    [Fact]
    public void Parse_NoFinalNewline_LastLineKept() =>
        Assert.Equal(new CorpusExample(2, "b", null), Parse("{\"text\":\"a\"}\n{\"text\":\"b\"}")[1]);

    [Theory]
    [InlineData("{\"text\": \"x\"", "invalid JSON")]
    [InlineData("{\"text\": \"x\"} trailing", "invalid JSON")]
    [InlineData("\"just a string\"", "expected a JSON object with \"text\", found a string")]
    [InlineData("{}", "missing \"text\"")]
    [InlineData("{\"text\": null}", "\"text\" must be a string, found null")]
    [InlineData("{\"text\": [\"a\"]}", "\"text\" must be a string, found an array")]
    [InlineData("{\"text\": \"\"}", "empty \"text\"")]
    [InlineData("{\"text\": \"a\", \"text_pair\": 5}", "\"text_pair\" must be a string or null, found a number")]
    [InlineData("{\"text\": \"a\", \"text_pair\": \" \"}", "empty \"text_pair\"")]
    [InlineData("   ", "blank line")]
    public void ParseLine_BadLine_SaysWhy(string line, string phrase)
    {
        var entry = Assert.IsType<CorpusLineError>(CorpusInput.ParseLine(7, Encoding.UTF8.GetBytes(line)));
        Assert.Equal(7, entry.Line);
        Assert.Contains(phrase, entry.Message);
    }

    [Fact]
    public void ParseLine_InvalidUtf8_SaysSo()
    {
        var entry = Assert.IsType<CorpusLineError>(CorpusInput.ParseLine(1, [(byte)'{', 0xC3, 0x28, (byte)'}']));
        Assert.Equal("not valid UTF-8", entry.Message);
    }

    [Fact]
    public void Run_UnevenWork_FoldsInOrderWithBoundedWindow()
    {
        var items = Enumerable.Range(0, 60).ToArray();
        var folded = new List<int>();
        int inFlight = 0, maxInFlight = 0;
        bool all = OrderedParallel.Run(items, i =>
        {
            int now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            Thread.Sleep((i * 7) % 5);   // later items often finish first
            return i * i;
        }, (index, value) =>
        {
            Interlocked.Decrement(ref inFlight);
            Assert.Equal(index * index, value);
            folded.Add(index);
        }, workers: 4, window: 6);
        Assert.True(all);
        Assert.Equal(items, folded);
        Assert.InRange(maxInFlight, 1, 6);
    }

    [Fact]
    public async Task Run_WindowSmallerThanWorkers_Returns()
    {
        // at the end, workers can still be waiting for a window slot (one that found no item left keeps the slot it
        // took): the last fold must wake the caller, which then stops them (a hang here times out)
        var folded = new List<int>();
        bool all = await Task.Run(() => OrderedParallel.Run(Enumerable.Range(0, 100).ToArray(), i => i, (index, _) => folded.Add(index),
            workers: 4, window: 1)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(all);
        Assert.Equal(Enumerable.Range(0, 100), folded);
    }

    [Fact]
    public void Run_Cancelled_FoldsAPrefixOnly()
    {
        using var cancel = new CancellationTokenSource();
        var folded = new List<int>();
        bool all = OrderedParallel.Run(Enumerable.Range(0, 1000).ToArray(), i =>
        {
            Thread.Sleep(1);
            return i;
        }, (index, _) =>
        {
            folded.Add(index);
            if (index == 20) cancel.Cancel();
        }, workers: 3, cancel.Token);
        Assert.False(all);
        Assert.Equal(Enumerable.Range(0, folded.Count), folded);
        Assert.InRange(folded.Count, 21, 999);
    }

    [Fact]
    public void Run_ComputeThrows_RethrowsAfterFoldingTheItemsBefore()
    {
        var folded = new List<int>();
        var e = Assert.Throws<InvalidOperationException>(() => OrderedParallel.Run(Enumerable.Range(0, 50).ToArray(),
            i => i == 10 ? throw new InvalidOperationException("item 10") : i, (index, _) => folded.Add(index), workers: 1));
        Assert.Equal("item 10", e.Message);
        Assert.Equal(Enumerable.Range(0, 10), folded);
    }

    static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
