using System.Collections.ObjectModel;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace MixLens.Engine.SafeTensors;

/// <summary>
/// Parses and validates the JSON header of a safetensors file against the size of its data region.
/// </summary>
/// <remarks>
/// <para>Format (https://github.com/huggingface/safetensors): a JSON object mapping each tensor name to
/// <c>{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}</c> (byte offsets relative to the start of the
/// data region, <c>end</c> exclusive), plus an optional <c>"__metadata__"</c> object of string to string. Unknown keys
/// inside a tensor entry are ignored, as the reference implementation does.</para>
/// <para>Validation matches the reference Rust reader (<c>Metadata::validate</c> and <c>read_metadata</c>): sorted by
/// offset, the tensors must tile the data region exactly (each starts where the previous ended, the first at 0, the
/// last ends at the end of the file), and every tensor's byte length must equal its element count times its dtype
/// size. Beyond the reference, duplicate keys (which serde would silently collapse) are rejected and the errors say
/// which tensor and which rule failed.</para>
/// </remarks>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reserved key holding the free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Largest accepted header, in bytes (the reference's <c>MAX_HEADER_SIZE</c>).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Tensor entries in header (document) order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when absent or null).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsHeader(IReadOnlyList<TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Parses the header and validates it against the data region.</summary>
    /// <param name="json">the N header bytes (after the 8-byte length prefix).</param>
    /// <param name="dataLength">size of the data region: file length − 8 − N.</param>
    /// <param name="file">file path, used as the prefix of every error message.</param>
    /// <exception cref="SafeTensorsException">any violation of the format; the message names the file and, where relevant, the tensor.</exception>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        if (!Utf8.IsValid(json))
            throw new SafeTensorsException($"{file}: header is not valid UTF-8 (first invalid byte at header offset {FirstInvalidUtf8(json)})");

        if (json.Trim(" \t\r\n"u8).IsEmpty)
            throw new SafeTensorsException($"{file}: header is empty (expected a JSON object)");

        var parser = new Parser(file);
        SafeTensorsHeader header;
        try
        {
            header = parser.ParseDocument(json);
        }
        catch (JsonException e)
        {
            // Utf8JsonReader reports the line and byte position of the syntax error.
            throw new SafeTensorsException($"{file}: header is not valid JSON: {e.Message}", e);
        }
        ValidateLayout(header.Tensors, dataLength, file);
        return header;
    }

    /// <summary>
    /// Per-tensor checks: reversed offsets, byte length vs shape × dtype size, and offsets past the data region.
    /// Then, sorted by offset, the tensors must cover [0, dataLength) exactly: no overlaps, gaps or trailing bytes.
    /// </summary>
    static void ValidateLayout(IReadOnlyList<TensorInfo> tensors, long dataLength, string file)
    {
        foreach (var t in tensors)
        {
            string where = $"{file}: tensor '{t.Name}'";
            if (t.Begin > t.End)
                throw new SafeTensorsException($"{where}: data_offsets [{t.Begin}, {t.End}] are reversed (begin > end)");
            long count = 1, bytes;
            try
            {
                foreach (long d in t.Shape) count = checked(count * d);
                bytes = checked(count * t.DType.SizeInBytes());
            }
            catch (OverflowException)
            {
                throw new SafeTensorsException($"{where}: shape {FormatShape(t.Shape)} with dtype {t.DType} overflows (byte size does not fit in 64 bits)");
            }
            if (bytes != t.End - t.Begin)
                throw new SafeTensorsException(
                    $"{where}: shape {FormatShape(t.Shape)} with dtype {t.DType} needs {bytes} bytes, " +
                    $"but data_offsets [{t.Begin}, {t.End}] span {t.End - t.Begin} bytes (shape/size mismatch)");
            if (t.End > dataLength)
                throw new SafeTensorsException(
                    $"{where}: data_offsets [{t.Begin}, {t.End}] are out of range: the data region holds only {dataLength} bytes (file truncated?)");
        }

        var sorted = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();   // stable: ties keep header order
        long covered = 0;
        TensorInfo? previous = null;
        foreach (var t in sorted)
        {
            if (t.Begin < covered)
                throw new SafeTensorsException(
                    $"{file}: tensor '{t.Name}' (data_offsets [{t.Begin}, {t.End}]) overlaps tensor '{previous!.Name}' (data_offsets [{previous.Begin}, {previous.End}])");
            if (t.Begin > covered)
                throw new SafeTensorsException(
                    $"{file}: gap in the data region: bytes [{covered}, {t.Begin}) before tensor '{t.Name}' are not covered by any tensor " +
                    "(tensors must be contiguous)");
            covered = t.End;
            previous = t;
        }
        if (covered != dataLength)
            throw new SafeTensorsException(
                $"{file}: the tensors do not cover the data region: {dataLength - covered} trailing bytes after offset {covered} " +
                $"(data region is {dataLength} bytes{(previous != null ? $", last tensor '{previous.Name}'" : ", no tensors")})");
    }

    static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false);
        return read;
    }

    /// <summary>Streaming parser over the header bytes; it sees every key, so duplicates are detected.</summary>
    sealed class Parser(string file)
    {
        public SafeTensorsHeader ParseDocument(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new SafeTensorsException($"{file}: header must be a JSON object, found {Describe(reader.TokenType)}");

            var tensors = new List<TensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            IReadOnlyDictionary<string, string>? metadata = null;
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = ReadString(ref reader);
                if (!seen.Add(key))
                    throw new SafeTensorsException(key == MetadataKey
                        ? $"{file}: duplicate '{MetadataKey}' key in header"
                        : $"{file}: duplicate tensor name '{key}' in header");
                if (key == MetadataKey) metadata = ParseMetadata(ref reader);
                else tensors.Add(ParseEntry(ref reader, key));
            }
            if (reader.Read())   // throws for non-whitespace trailing content; spaces (the usual padding) are fine
                throw new SafeTensorsException($"{file}: unexpected content after the header's JSON object");
            return new SafeTensorsHeader(tensors.AsReadOnly(), metadata ?? ReadOnlyDictionary<string, string>.Empty);
        }

        IReadOnlyDictionary<string, string> ParseMetadata(ref Utf8JsonReader reader)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            var type = Next(ref reader);
            if (type == JsonTokenType.Null) return ReadOnlyDictionary<string, string>.Empty;
            if (type != JsonTokenType.StartObject)
                throw new SafeTensorsException($"{file}: '{MetadataKey}' must be an object of string values, found {Describe(type)}");
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = ReadString(ref reader);
                var valueType = Next(ref reader);
                if (valueType != JsonTokenType.String)
                    throw new SafeTensorsException($"{file}: '{MetadataKey}' value for key '{key}' must be a string, found {Describe(valueType)}");
                if (!result.TryAdd(key, ReadString(ref reader)))
                    throw new SafeTensorsException($"{file}: duplicate key '{key}' in '{MetadataKey}'");
            }
            return result.AsReadOnly();
        }

        TensorInfo ParseEntry(ref Utf8JsonReader reader, string name)
        {
            string where = $"{file}: tensor '{name}'";
            var type = Next(ref reader);
            if (type != JsonTokenType.StartObject)
                throw new SafeTensorsException($"{where}: entry must be a JSON object with dtype, shape and data_offsets, found {Describe(type)}");

            DType? dtype = null;
            long[]? shape = null, offsets = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = ReadString(ref reader);
                if (!seen.Add(key))
                    throw new SafeTensorsException($"{where}: duplicate key '{key}' in entry");
                switch (key)
                {
                    case "dtype":
                        if (Next(ref reader) != JsonTokenType.String)
                            throw new SafeTensorsException($"{where}: 'dtype' must be a string, found {Describe(reader.TokenType)}");
                        string text = ReadString(ref reader);
                        if (!DTypeExtensions.TryParse(text, out var parsed))
                            throw new SafeTensorsException(
                                $"{where}: unknown dtype '{text}' (supported: {string.Join(", ", Enum.GetNames<DType>())})");
                        dtype = parsed;
                        break;
                    case "shape":
                        shape = ReadIntegers(ref reader, where, "shape", "dimension");
                        break;
                    case "data_offsets":
                        offsets = ReadIntegers(ref reader, where, "data_offsets", "offset");
                        if (offsets.Length != 2)
                            throw new SafeTensorsException($"{where}: 'data_offsets' must be [begin, end], found {offsets.Length} values");
                        break;
                    default:
                        reader.Read();
                        reader.Skip();   // unknown keys are ignored, as in the reference implementation
                        break;
                }
            }
            if (dtype == null) throw new SafeTensorsException($"{where}: entry is missing 'dtype'");
            if (shape == null) throw new SafeTensorsException($"{where}: entry is missing 'shape'");
            if (offsets == null) throw new SafeTensorsException($"{where}: entry is missing 'data_offsets'");
            return new TensorInfo(name, dtype.Value, shape, offsets[0], offsets[1]);
        }

        /// <summary>A JSON array of non-negative integers that fit in a <see cref="long"/>.</summary>
        long[] ReadIntegers(ref Utf8JsonReader reader, string where, string key, string what)
        {
            if (Next(ref reader) != JsonTokenType.StartArray)
                throw new SafeTensorsException($"{where}: '{key}' must be an array of integers, found {Describe(reader.TokenType)}");
            var values = new List<long>();
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number)
                    throw new SafeTensorsException($"{where}: '{key}' must be an array of integers, found {Describe(reader.TokenType)}");
                if (!reader.TryGetInt64(out long value))
                    throw new SafeTensorsException(
                        $"{where}: '{key}' {what} {Encoding.UTF8.GetString(reader.ValueSpan)} is not an integer in the 64-bit range");
                if (value < 0)
                    throw new SafeTensorsException($"{where}: '{key}' has a negative {what} {value}");
                values.Add(value);
            }
            return values.ToArray();
        }

        /// <summary>The current string or property name. Utf8JsonReader checks escapes only here: an unpaired surrogate
        /// (<c>"\ud800"</c>) would escape as InvalidOperationException (found by fuzzing).</summary>
        string ReadString(ref Utf8JsonReader reader)
        {
            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw new SafeTensorsException(
                    $"{file}: the header string at header offset {reader.TokenStartIndex} has an escape that is not valid UTF-16 (an unpaired surrogate such as \\ud800)");
            }
        }

        /// <summary>Advances one token; a truncated document cannot occur (the whole header is final), so false is a bug.</summary>
        JsonTokenType Next(ref Utf8JsonReader reader)
        {
            if (!reader.Read()) throw new SafeTensorsException($"{file}: header JSON ends unexpectedly");
            return reader.TokenType;
        }

        static string Describe(JsonTokenType type) => type switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => type.ToString(),
        };
    }
}
