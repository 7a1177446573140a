using System.Buffers;

namespace MixLens.Engine.SafeTensors;

/// <summary>
/// A <see cref="MemoryManager{T}"/> over a region of a <see cref="MappedFile"/>: the <see cref="Memory{T}"/> it hands out
/// reads the mapped pages directly (no copy). The memory is only valid while the file is open; after the owning
/// <see cref="SafeTensorsFile"/> is disposed, <see cref="GetSpan"/> and <see cref="Pin"/> throw
/// <see cref="ObjectDisposedException"/> (spans obtained earlier must not be used any more).
/// </summary>
/// <remarks>
/// The mapping is read-only: the span type is writable only because <see cref="MemoryManager{T}"/> requires it. Writing
/// through it (e.g. after <c>MemoryMarshal.AsMemory</c>) is an access violation. The caller guarantees that the
/// pointer given to the constructor is suitably aligned for <typeparamref name="T"/>.
/// </remarks>
internal sealed unsafe class MappedMemoryManager<T> : MemoryManager<T> where T : unmanaged
{
    readonly MappedFile _file;
    readonly T* _pointer;
    readonly int _length;

    public MappedMemoryManager(MappedFile file, T* pointer, int length)
    {
        _file = file;
        _pointer = pointer;
        _length = length;
    }

    /// <summary>Address of the first element (for tests and diagnostics).</summary>
    public nint Address => (nint)_pointer;

    public override Span<T> GetSpan()
    {
        _file.ThrowIfDisposed();
        return new Span<T>(_pointer, _length);
    }

    /// <summary>Mapped memory never moves, so pinning only returns the address.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        _file.ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin() { }

    /// <summary>The mapping belongs to the <see cref="MappedFile"/>; nothing to release here.</summary>
    protected override void Dispose(bool disposing) { }
}
