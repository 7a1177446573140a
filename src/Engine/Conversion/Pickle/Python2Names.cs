namespace MixLens.Engine.Conversion.Pickle;

/// <summary>
/// The Python 2 → 3 renaming that Python's unpickler applies to globals of protocol 0–2 pickles (<c>fix_imports</c>):
/// a protocol-2 pickle written by Python 3 stores <c>builtins.eval</c> as <c>__builtin__ eval</c> and
/// <c>subprocess.Popen</c> as <c>commands Popen</c>. Only used to name globals as Python would resolve them (for the
/// allow-list and in error messages); nothing is imported.
/// </summary>
/// <remarks>Source: CPython <c>Lib/_compat_pickle.py</c> (IMPORT_MAPPING and NAME_MAPPING; the module renames
/// relevant to checkpoints and to the payloads hostile pickles use).</remarks>
public static class Python2Names
{
    static readonly Dictionary<string, string> Modules = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins",
        ["copy_reg"] = "copyreg",
        ["commands"] = "subprocess",
        ["cPickle"] = "pickle",
        ["Queue"] = "queue",
        ["thread"] = "_thread",
        ["exceptions"] = "builtins",
        ["UserDict"] = "collections",
        ["UserList"] = "collections",
        ["UserString"] = "collections",
        ["urllib2"] = "urllib.request",
        ["httplib"] = "http.client",
        ["SocketServer"] = "socketserver",
        ["cStringIO"] = "io",
        ["StringIO"] = "io",
    };

    static readonly Dictionary<(string, string), (string, string)> Names = new()
    {
        [("__builtin__", "xrange")] = ("builtins", "range"),
        [("__builtin__", "reduce")] = ("functools", "reduce"),
        [("__builtin__", "intern")] = ("sys", "intern"),
        [("__builtin__", "unichr")] = ("builtins", "chr"),
        [("__builtin__", "unicode")] = ("builtins", "str"),
        [("__builtin__", "long")] = ("builtins", "int"),
        [("__builtin__", "basestring")] = ("builtins", "str"),
        [("itertools", "izip")] = ("builtins", "zip"),
        [("itertools", "imap")] = ("builtins", "map"),
        [("itertools", "ifilter")] = ("builtins", "filter"),
        [("UserDict", "IterableUserDict")] = ("collections", "UserDict"),
    };

    /// <summary>The Python 3 (module, name) for a global read from a protocol 0–2 pickle.</summary>
    public static (string Module, string Name) ToPython3(string module, string name)
    {
        if (Names.TryGetValue((module, name), out var renamed)) return renamed;
        return Modules.TryGetValue(module, out var newModule) ? (newModule, name) : (module, name);
    }
}
