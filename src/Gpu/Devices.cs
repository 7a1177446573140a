using MixLens.Engine.Model;

namespace MixLens.Gpu;

/// <summary>Picks the backend for a <see cref="ComputeDevice"/> (the CLI's <c>--device</c>).</summary>
public static class Devices
{
    /// <summary>Parses "cpu", "cuda" or "auto" (case-insensitive).</summary>
    /// <exception cref="ArgumentException">any other value; the message lists the choices.</exception>
    public static ComputeDevice Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "cpu" => ComputeDevice.Cpu,
        "cuda" or "gpu" => ComputeDevice.Cuda,
        "auto" => ComputeDevice.Auto,
        _ => throw new ArgumentException($"unknown device '{value}'; choose cpu, cuda or auto"),
    };

    /// <summary>
    /// The backend for <paramref name="device"/>: <see cref="EncoderBackend.Simd"/> for cpu; a
    /// <see cref="GpuEncoderBackend"/> on the first CUDA device for cuda (dispose it when done); for auto, that when a
    /// CUDA device is found, else the CPU with one line on <paramref name="notice"/> saying so.
    /// </summary>
    /// <exception cref="GpuDeviceNotFoundException">cuda asked for and none found (the message says why).</exception>
    public static EncoderBackend Open(ComputeDevice device, TextWriter? notice = null)
    {
        if (device == ComputeDevice.Cpu) return EncoderBackend.Simd;
        var gpu = GpuEncoderBackend.TryCreateCuda(out string reason);
        if (gpu is not null) return gpu;
        if (device == ComputeDevice.Cuda) throw new GpuDeviceNotFoundException($"--device cuda: no CUDA device found: {reason}");
        notice?.WriteLine($"--device auto: no CUDA device found ({reason}); running on the CPU");
        return EncoderBackend.Simd;
    }
}
