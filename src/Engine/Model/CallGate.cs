namespace MixLens.Engine.Model;

/// <summary>
/// Counts the calls in flight on one encoder so that disposing its model while calls run is safe: after
/// <see cref="Close"/>, a new call throws <see cref="ObjectDisposedException"/>, the calls already running finish
/// normally, and the release (unmapping the weights) runs when the last of them leaves — never under a running call,
/// whose spans into the mapped file would otherwise point at unmapped memory. Calls nest (an analysis that runs
/// forwards enters once per level); a nested call started after <see cref="Close"/> throws as a new one does.
/// </summary>
public sealed class CallGate
{
    readonly Lock _lock = new();
    readonly string _name;
    int _inFlight;
    bool _closed;
    Action? _release;

    internal CallGate(string name) => _name = name;

    /// <summary>Calls running now.</summary>
    public int InFlight { get { lock (_lock) return _inFlight; } }

    /// <summary>Whether <see cref="Close"/> has been called.</summary>
    public bool IsClosed { get { lock (_lock) return _closed; } }

    /// <summary>Enters a call; dispose the scope to leave it.</summary>
    /// <exception cref="ObjectDisposedException">the gate is closed (the model was disposed).</exception>
    public Scope Enter()
    {
        lock (_lock)
        {
            if (_closed) throw new ObjectDisposedException(_name, $"{_name}: the model has been disposed; load it again to use it");
            _inFlight++;
        }
        return new Scope(this);
    }

    void Leave()
    {
        Action? release = null;
        lock (_lock)
        {
            if (--_inFlight == 0 && _closed)
            {
                release = _release;
                _release = null;
            }
        }
        release?.Invoke();
    }

    /// <summary>Refuses new calls, and runs <paramref name="release"/> now if no call is in flight, else when the last
    /// one leaves (on that call's thread). A second close does nothing.</summary>
    internal void Close(Action release)
    {
        bool now;
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            now = _inFlight == 0;
            if (!now) _release = release;
        }
        if (now) release();
    }

    /// <summary>One call in flight; <see cref="Dispose"/> leaves it.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly CallGate? _gate;

        internal Scope(CallGate gate) => _gate = gate;

        public void Dispose() => _gate?.Leave();
    }
}
