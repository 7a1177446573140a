using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using MixLens.Extensions.AI;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.ExtensionsAI;

/// <summary>docs/install.md's IEmbeddingGenerator example, run as written (Console.WriteLine → WriteLine); its output is
/// what the page shows.</summary>
public class InstallDocExampleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InstallDocEmbeddingGeneratorExample_Runs()
    {
        var lines = new List<string>();
        void WriteLine(string line) { lines.Add(line); output.WriteLine(line); }
        string modelPath = SharedData.Models("all-MiniLM-L6-v2");   // the page: "../shared/models/all-MiniLM-L6-v2"

        // --- docs/install.md, "IEmbeddingGenerator" ---
        using IEmbeddingGenerator<string, Embedding<float>> generator = MixLensEmbeddingGenerator.Load(modelPath);
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(
            ["A dog sleeps in the sun.", "A puppy naps in the sunshine.", "The stock market fell today."]);

        var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;
        WriteLine($"{metadata.DefaultModelId}: {embeddings.Count} embeddings of {embeddings[0].Dimensions} dimensions, {embeddings.Usage!.InputTokenCount} tokens");
        for (int k = 1; k < embeddings.Count; k++)
            WriteLine($"cos(0, {k}) = {TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[k].Vector.Span):F4}");
        // --- end of the example ---

        Assert.Equal("all-MiniLM-L6-v2: 3 embeddings of 384 dimensions, 27 tokens", lines[0]);
        // the page shows this output: every line of it must be there
        string page = File.ReadAllText(Path.Combine(SharedData.RepoRoot, "docs", "install.md"));
        Assert.All(lines, line => Assert.True(page.Contains(line), $"docs/install.md does not show the output line '{line}'"));
        float paraphrase = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[1].Vector.Span);
        float unrelated = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[2].Vector.Span);
        Assert.True(paraphrase > 0.5f && paraphrase > unrelated + 0.3f, $"paraphrase {paraphrase}, unrelated {unrelated}");
    }
}
