namespace MixLens.Bench.Peers;

/// <summary>
/// The weight aliases of an ONNX export: <c>Identity</c> nodes that feed one stored initializer to several weights.
/// PyTorch's exporter de-duplicates initializers with identical bytes; the BERT-base peer's model.onnx was exported from
/// a freshly initialised model (biases 0, LayerNorm weights 1), so it stores 78 initializers and maps all 84 768-wide
/// biases to <c>embeddings.LayerNorm.bias</c>, all 24 other LayerNorm weights to <c>embeddings.LayerNorm.weight</c>
/// and the 11 other FFN biases to <c>encoder.layer.0.intermediate.dense.bias</c>. ONNX Runtime therefore reads only the
/// source tensor's bytes for all of them, and a peer whose aliased tensors held different values would give different
/// outputs in MixLens and ORT. A minimal protobuf walk: ModelProto.graph (7) → NodeProto (1): input (1), output (2),
/// op_type (4).
/// </summary>
public static class OnnxAliases
{
    /// <summary>Aliased weight name (output, with the exporter's "bert." prefix removed) → stored initializer name.</summary>
    public static Dictionary<string, string> Read(string onnxPath)
    {
        var aliases = new Dictionary<string, string>();
        var model = File.ReadAllBytes(onnxPath);
        foreach (var (field, graph) in LengthDelimited(model))
        {
            if (field != 7) continue;
            foreach (var (graphField, node) in LengthDelimited(graph))
            {
                if (graphField != 1) continue;
                string? op = null, input = null, output = null;
                foreach (var (nodeField, value) in LengthDelimited(node))
                {
                    string text = System.Text.Encoding.UTF8.GetString(value);
                    if (nodeField == 4) op = text;
                    else if (nodeField == 1) input ??= text;
                    else if (nodeField == 2) output ??= text;
                }
                if (op == "Identity" && input != null && output != null)
                    aliases[output.StartsWith("bert.") ? output[5..] : output] = input;
            }
        }
        return aliases;
    }

    /// <summary>The length-delimited fields (wire type 2) of a protobuf message; other wire types are skipped.</summary>
    static IEnumerable<(int Field, byte[] Value)> LengthDelimited(byte[] message)
    {
        int i = 0;
        while (i < message.Length)
        {
            ulong key = Varint(message, ref i);
            int field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: Varint(message, ref i); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    int length = checked((int)Varint(message, ref i));
                    yield return (field, message[i..(i + length)]);
                    i += length;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {key & 7}");
            }
        }
    }

    static ulong Varint(byte[] b, ref int i)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte x = b[i++];
            result |= (ulong)(x & 0x7f) << shift;
            if (x < 0x80) return result;
        }
    }
}
