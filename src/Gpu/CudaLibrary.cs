using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace MixLens.Gpu;

/// <summary>
/// Finds the CUDA driver library for ILGPU. ILGPU imports the driver API from a library named <c>cuda</c> (Linux) or
/// <c>nvcuda</c> (Windows); .NET then probes <c>libcuda.so</c>, which only the CUDA toolkit's development package
/// installs. A machine with the driver alone has <c>libcuda.so.1</c>, so a resolver on ILGPU's assembly maps the name
/// to it (ILGPU needs nothing else: it writes PTX itself, no toolkit, no nvrtc).
/// </summary>
public static class CudaLibrary
{
    static int _installed;

    /// <summary>Installs the resolver once per process (a no-op if ILGPU's assembly already has one).</summary>
    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // a resolver is already set for ILGPU (by the host): leave it in charge
        }
    }

    /// <summary>Whether the driver library can be loaded at all (for the message when no device is found).</summary>
    public static bool DriverPresent() => Candidates.Any(c => NativeLibrary.TryLoad(c, out _));

    static string[] Candidates => OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name is not ("cuda" or "nvcuda")) return IntPtr.Zero;
        foreach (var candidate in Candidates)
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
