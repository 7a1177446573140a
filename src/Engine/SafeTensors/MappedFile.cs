using System.IO.MemoryMappedFiles;

namespace MixLens.Engine.SafeTensors;

/// <summary>
/// A whole file mapped read-only into memory, with its base pointer acquired for the lifetime of this object.
/// Reads through <see cref="Pointer"/> are valid until <see cref="Dispose"/>; afterwards <see cref="ThrowIfDisposed"/>
/// throws <see cref="ObjectDisposedException"/> (the memory managers call it on every span request).
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    readonly MemoryMappedFile _mmf;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _pointer;
    volatile bool _disposed;

    /// <summary>Full path of the mapped file (used in messages).</summary>
    public string Path { get; }

    /// <summary>File length in bytes.</summary>
    public long Length { get; }

    /// <summary>Address of the first byte of the file.</summary>
    public byte* Pointer => _pointer;

    MappedFile(string path, long length, MemoryMappedFile mmf, MemoryMappedViewAccessor view, byte* pointer)
    {
        Path = path;
        Length = length;
        _mmf = mmf;
        _view = view;
        _pointer = pointer;
    }

    /// <summary>
    /// Opens and maps <paramref name="path"/>. A file shorter than <paramref name="minimumLength"/> bytes is not mapped
    /// (an empty file cannot be mapped at all) and raises <see cref="SafeTensorsException"/>.
    /// </summary>
    /// <exception cref="SafeTensorsException">missing file, unreadable file, or file shorter than <paramref name="minimumLength"/>.</exception>
    public static MappedFile Open(string path, long minimumLength)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SafeTensorsException($"{path}: file not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafeTensorsException($"{path}: cannot open file: {e.Message}", e);
        }

        MemoryMappedFile? mmf = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            long length = stream.Length;
            if (length < minimumLength)
                throw new SafeTensorsException(
                    $"{path}: file is {length} bytes, shorter than the {minimumLength}-byte header length prefix (truncated or not a safetensors file)");
            mmf = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, length, mmf, view, p + view.PointerOffset);
        }
        catch (Exception e)
        {
            view?.Dispose();
            if (mmf != null) mmf.Dispose(); else stream.Dispose();
            if (e is SafeTensorsException) throw;
            throw new SafeTensorsException($"{path}: cannot memory-map file: {e.Message}", e);
        }
    }

    /// <summary>The bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the file.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ThrowIfDisposed();
        return new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    public void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(SafeTensorsFile), $"{Path}: the safetensors file has been disposed; its mapped memory is no longer valid");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mmf.Dispose();
    }
}
