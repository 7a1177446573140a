using ILGPU;
using ILGPU.Runtime;

namespace MixLens.Gpu;

/// <summary>
/// Named device buffers that grow to the largest size asked for and are then reused (the device counterpart of the
/// engine's ForwardWorkspace). Not thread-safe: the backend holds its lock while it uses them.
/// </summary>
internal sealed class DeviceBuffers(Accelerator accelerator) : IDisposable
{
    readonly Dictionary<string, MemoryBuffer> _buffers = new();

    /// <summary>The first <paramref name="length"/> elements of buffer <paramref name="name"/> (contents undefined).</summary>
    public ArrayView<T> Get<T>(string name, long length) where T : unmanaged
    {
        length = Math.Max(length, 1);
        if (_buffers.TryGetValue(name, out var existing) && existing is MemoryBuffer1D<T, Stride1D.Dense> typed && typed.Length >= length)
            return typed.View.SubView(0, length);
        existing?.Dispose();
        var buffer = accelerator.Allocate1D<T>(length);
        _buffers[name] = buffer;
        return buffer.View.SubView(0, length);
    }

    /// <summary>Buffer <paramref name="name"/> holding a copy of <paramref name="data"/>.</summary>
    public ArrayView<T> Upload<T>(string name, ReadOnlySpan<T> data) where T : unmanaged
    {
        var view = Get<T>(name, data.Length);
        if (data.Length > 0) view.SubView(0, data.Length).CopyFromCPU(data);
        return view;
    }

    public void Dispose()
    {
        foreach (var b in _buffers.Values) b.Dispose();
        _buffers.Clear();
    }
}
