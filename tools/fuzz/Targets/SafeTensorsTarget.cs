using MixLens.Engine.SafeTensors;

namespace MixLens.Fuzz;

/// <summary>
/// The safetensors reader: the input is a whole <c>.safetensors</c> file (length prefix, JSON header, data region).
/// It is opened, and every tensor is read the way its dtype allows (float32, int64, raw bytes). Documented outcome of a
/// malformed file: <see cref="SafeTensorsException"/> naming the file.
/// </summary>
public static class SafeTensorsTarget
{
    const string FileName = "fuzz.safetensors";

    public static FuzzTarget Target { get; } = new("safetensors",
        "SafeTensorsFile.Open and every tensor read: header JSON, data_offsets bounds, dtype × shape sizes", Run);

    static void Run(byte[] data)
    {
        string path = FuzzScratch.Write(FuzzScratch.Folder("safetensors"), FileName, data);
        FuzzRule.WithinAllocationBudget(data.Length, () => FuzzRule.Expect(() =>
        {
            using var file = SafeTensorsFile.Open(path);
            foreach (var info in file.Tensors)
            {
                if (info.DType.IsFloatingPoint()) _ = file.GetFloat32(info.Name);
                else _ = file.GetInt64(info.Name);
                if (file.GetBytes(info.Name).Length != info.ByteLength)
                    throw new FuzzRuleViolation($"tensor '{info.Name}': GetBytes returned a span of another length than {info.ByteLength}");
            }
            _ = file.Metadata.Count;
        }, [FileName], typeof(SafeTensorsException)));
    }
}
