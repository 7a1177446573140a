using System.Text.Json.Serialization;

namespace MixLens.Analysis.Corpus;

/// <summary>
/// Source-generated System.Text.Json metadata for <c>string[]</c> (token lists and method lists written into
/// safetensors metadata), so that serializing them needs no reflection: trimming- and NativeAOT-safe. Default options,
/// hence the same text as <c>JsonSerializer.Serialize(string[])</c> (non-ASCII escaped as <c>\uXXXX</c>).
/// </summary>
[JsonSerializable(typeof(string[]))]
public sealed partial class StringArrayJsonContext : JsonSerializerContext;
