using System.Diagnostics;
using System.Globalization;
using MixLens.Engine.Hub;

namespace MixLens.Cli;

/// <summary>
/// A one-line progress bar for hub downloads on a terminal's stderr, redrawn in place at most ten times a second:
/// <c>model.safetensors  [#########-----------]  41.0 MiB of 86.7 MiB   47%  9.8 MiB/s</c>; each finished line stays.
/// Only used when stderr is a terminal, so that redirected output stays clean.
/// </summary>
internal sealed class DownloadProgressBar(TextWriter terminal) : IDownloadProgress
{
    const int BarWidth = 20;
    const int NameWidth = 28;
    readonly Stopwatch _clock = new();
    string _file = "";
    long? _total;
    long _resumedAt, _bytes;
    long _lastDrawMs = -1000;

    public void Started(string file, long? totalBytes, long resumedAt)
    {
        _file = file;
        _total = totalBytes;
        _resumedAt = _bytes = resumedAt;
        _clock.Restart();
        _lastDrawMs = -1000;
        Draw();
    }

    public void Advanced(long bytesOnDisk)
    {
        _bytes = bytesOnDisk;
        if (_clock.ElapsedMilliseconds - _lastDrawMs >= 100) Draw();
    }

    public void Finished(bool completed)
    {
        Draw(completed ? "" : "  (broken off)");
        terminal.WriteLine();
        terminal.Flush();
    }

    void Draw(string suffix = "")
    {
        _lastDrawMs = _clock.ElapsedMilliseconds;
        string name = _file.Length <= NameWidth ? _file.PadRight(NameWidth) : "…" + _file[^(NameWidth - 1)..];
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        string rate = $"{Size((long)((_bytes - _resumedAt) / seconds))}/s";
        string line = _total is long total and > 0
            ? $"{name}  [{new string('#', (int)(BarWidth * _bytes / total)).PadRight(BarWidth, '-')}]  {Size(_bytes)} of {Size(total)}  {100 * _bytes / total,3}%  {rate}"
            : $"{name}  {Size(_bytes)}  {rate}";
        terminal.Write(string.Create(CultureInfo.InvariantCulture, $"\r{line}{suffix}   "));
        terminal.Flush();
    }

    /// <summary>Bytes in the largest binary unit that keeps a whole number in front: 612 B, 455.3 KiB, 86.7 MiB, 1.3 GiB.</summary>
    static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.0} GiB"),
    };
}
