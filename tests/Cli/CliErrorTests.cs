using System.Text.Json;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary>
/// User errors: each exits non-zero with one line "mixlens: error: …" on stderr that says what is wrong, and no stack
/// trace. Usage errors (missing required option) exit 2; everything else exits 1.
/// </summary>
public class CliErrorTests
{
    const string Tiny = "random-bert-tiniest";
    static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

    static string TinyModel => CliHarness.Model(Tiny);

    [Theory]
    [InlineData("analyze")]
    [InlineData("trace")]
    [InlineData("tokenize")]
    [InlineData("embed")]
    public void AnyCommand_MissingModelDirectory_FailsNamingTheDirectory(string command)
    {
        using var temp = new TempFolder();
        string missing = Path.Combine(temp.Path, "no-such-model");
        var args = new List<string> { command, "--model", missing, "--text", "hello" };
        if (command == "trace") args.AddRange(["--out", temp.File("t.safetensors")]);
        string line = CliHarness.RunUserError("not found", [.. args]);
        Assert.Contains($"model directory '{missing}' not found", line);
    }

    [Fact]
    public void Analyze_ModelDirWithoutConfig_FailsNamingConfigJson()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("noconfig", Tiny, ["model.safetensors", .. TokenizerFiles]);
        string line = CliHarness.RunUserError("config.json not found", "analyze", "--model", dir, "--text", "hello");
        Assert.Contains(Path.Combine(dir, "config.json"), line);
    }

    [Fact]
    public void Analyze_MalformedConfigJson_FailsWithInvalidJson()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("badconfig", Tiny, ["model.safetensors", .. TokenizerFiles]);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"bert\", \"hidden_size\": ");
        string line = CliHarness.RunUserError("invalid JSON", "analyze", "--model", dir, "--text", "hello");
        Assert.Contains("config.json", line);
    }

    [Fact]
    public void Analyze_UnsupportedModelType_FailsListingSupportedTypes()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("gpt2", Tiny, ["model.safetensors", .. TokenizerFiles]);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"gpt2\"}");
        CliHarness.RunUserError("unsupported model_type \"gpt2\"; supported model types: bert", "analyze", "--model", dir, "--text", "hello");
    }

    [Fact]
    public void Analyze_MissingWeightsFile_FailsNamingModelSafetensors()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("noweights", Tiny, ["config.json", .. TokenizerFiles]);
        CliHarness.RunUserError("model.safetensors: weights file not found", "analyze", "--model", dir, "--text", "hello");
    }

    [Fact]
    public void Analyze_TruncatedModelSafetensors_FailsNamingFileAndTensor()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("corrupt", Tiny, ["config.json", .. TokenizerFiles]);
        var weights = File.ReadAllBytes(Path.Combine(TinyModel, "model.safetensors"));
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), weights[..(weights.Length / 2)]);
        string line = CliHarness.RunUserError("out of range", "analyze", "--model", dir, "--text", "hello");
        Assert.Contains("model.safetensors", line);
        Assert.Contains("tensor '", line);
    }

    [Fact]
    public void Analyze_GarbageModelSafetensors_FailsNamingTheFile()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("garbage", Tiny, ["config.json", .. TokenizerFiles]);
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);
        CliHarness.RunUserError("model.safetensors: header length", "analyze", "--model", dir, "--text", "hello");
    }

    [Fact]
    public void Tokenize_ModelDirWithoutTokenizerFiles_FailsWithOneLine()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("notokenizer", Tiny, ["config.json", "model.safetensors"]);
        string line = CliHarness.RunUserError("tokenizer", "tokenize", "--model", dir, "--text", "hello");
        Assert.Contains(dir, line);
    }

    [Fact]
    public void Tokenize_MalformedTokenizerJson_FailsNamingTheFile()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("badtokenizer", Tiny, ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"version\": \"1.0\", \"model\": ");
        CliHarness.RunUserError("tokenizer.json' is not valid JSON", "tokenize", "--model", dir, "--text", "hello");
    }

    [Fact]
    public void Embed_MalformedModulesJson_FailsNamingSentenceTransformersFiles()
    {
        using var temp = new TempFolder();
        string dir = temp.ModelCopy("badmodules", Tiny, ["config.json", "model.safetensors", .. TokenizerFiles]);
        File.WriteAllText(Path.Combine(dir, "modules.json"), "[{\"idx\": 0");
        CliHarness.RunUserError("invalid JSON in the sentence-transformers files", "embed", "--model", dir, "--text", "hello");
    }

    [Fact]
    public void Analyze_UnknownMethod_FailsListingTheMethods()
    {
        string line = CliHarness.RunUserError("unknown method 'salience'; choose one of: attention, rollout, value-zeroing, value-zeroing-rollout",
            "analyze", "--model", TinyModel, "--text", "hello", "--method", "salience");
        foreach (var name in MixLens.Analysis.MixingMethods.Names) Assert.Contains(name, line);
    }

    [Fact]
    public void Analyze_BadFormat_FailsNamingTheChoices()
    {
        CliHarness.RunUserError("unknown format 'xml'; choose table or json",
            "analyze", "--model", TinyModel, "--text", "hello", "--format", "xml");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("99")]
    public void Analyze_LayerOutOfRange_FailsStatingTheRange(string layer)
    {
        CliHarness.RunUserError($"--layer {layer} is out of range: the model has layers 0..0",
            "analyze", "--model", TinyModel, "--text", "hello", "--layer", layer);
    }

    [Fact]
    public void Analyze_LayerNotANumber_IsUsageError()
    {
        CliHarness.RunUsageError("--layer", "analyze", "--model", TinyModel, "--text", "hello", "--layer", "last");
    }

    static string LongText => string.Join(' ', Enumerable.Repeat("word", 600));   // 602 tokens with [CLS], [SEP]

    [Theory]
    [InlineData("analyze")]
    [InlineData("trace")]
    [InlineData("embed")]
    public void AnyModelCommand_OverLongInputWithoutTruncate_FailsStatingLengthAndLimit(string command)
    {
        using var temp = new TempFolder();
        var args = new List<string> { command, "--model", TinyModel, "--text", LongText };
        if (command == "trace") args.AddRange(["--out", temp.File("t.safetensors")]);
        string line = CliHarness.RunUserError("the input is 602 tokens long, over the model's limit of 512 tokens", [.. args]);
        Assert.Contains("--truncate", line);
        Assert.False(File.Exists(temp.File("t.safetensors")));
    }

    [Fact]
    public void Analyze_OverLongInputWithTruncate_AnalysesFirst512Tokens()
    {
        var result = CliHarness.RunOk("analyze", "--model", TinyModel, "--text", LongText, "--truncate", "--format", "json");
        using var doc = JsonDocument.Parse(result.Stdout);
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToArray();
        Assert.Equal(512, tokens.Length);
        Assert.Equal("[CLS]", tokens[0]);
        Assert.Equal("[SEP]", tokens[^1]);
        var layer = Assert.Single(doc.RootElement.GetProperty("scores").EnumerateArray());
        Assert.Equal(512, layer.GetArrayLength());
    }

    [Fact]
    public void Embed_OverLongInputWithTruncate_Succeeds()
    {
        var result = CliHarness.RunOk("embed", "--model", TinyModel, "--text", LongText, "--truncate");
        Assert.Single(result.StdoutLines);
    }

    [Theory]
    [InlineData("analyze")]
    [InlineData("trace")]
    public void TextCommand_MissingText_IsUsageErrorNamingText(string command)
    {
        var args = new List<string> { command, "--model", TinyModel };
        if (command == "trace") args.AddRange(["--out", "unused.safetensors"]);
        CliHarness.RunUsageError("Option '--text' is required", [.. args]);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    public void InputCommand_NeitherTextNorInput_FailsAskingForOne(string command)
    {
        CliHarness.RunUserError("give the text with --text TEXT or a file of texts with --input FILE", command, "--model", TinyModel);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    public void InputCommand_MissingInputFile_FailsNamingTheFile(string command)
    {
        using var temp = new TempFolder();
        string missing = temp.File("no-such-texts.txt");
        CliHarness.RunUserError($"input file '{missing}' not found", command, "--model", TinyModel, "--input", missing);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("embed")]
    public void InputCommand_BothTextAndInput_FailsSayingNotBoth(string command)
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, "hello\n");
        CliHarness.RunUserError("give either --text or --input, not both", command, "--model", TinyModel, "--text", "hi", "--input", input);
    }

    [Fact]
    public void Tokenize_InputFileNotUtf8_FailsWithOneLine()
    {
        using var temp = new TempFolder();
        string input = temp.File("latin1.txt");
        File.WriteAllBytes(input, [(byte)'c', (byte)'a', (byte)'f', 0xe9, (byte)'\n']);
        CliHarness.RunUserError("UTF-8", "tokenize", "--model", TinyModel, "--input", input);
    }

    [Fact]
    public void Run_MissingModelOption_IsUsageError()
    {
        CliHarness.RunUsageError("Option '--model' is required", "analyze", "--text", "hello");
    }

    [Fact]
    public void Run_UnknownCommand_IsUsageError()
    {
        var result = CliHarness.Run("explain", "--model", TinyModel);
        Assert.Equal(2, result.ExitCode);
        CliHarness.AssertNoStackTrace(result.Stderr);
        Assert.StartsWith("mixlens: error: ", result.StderrLines[0]);
    }
}
