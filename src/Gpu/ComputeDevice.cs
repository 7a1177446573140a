namespace MixLens.Gpu;

/// <summary>Where the model runs (the CLI's <c>--device</c>).</summary>
public enum ComputeDevice
{
    /// <summary>The managed SIMD kernels on the CPU (the default).</summary>
    Cpu,
    /// <summary>The first CUDA device; an error when there is none.</summary>
    Cuda,
    /// <summary>A CUDA device when one is found, else the CPU.</summary>
    Auto,
}

/// <summary>No CUDA device could be opened for <c>--device cuda</c>; the message says why.</summary>
public sealed class GpuDeviceNotFoundException(string message) : Exception(message);
