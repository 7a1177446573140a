using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace MixLens.Engine.Conversion.Pickle;

/// <summary>
/// A restricted unpickler: runs the pickle virtual machine over the opcodes of <see cref="PickleOpcode"/> and nothing
/// else. It builds only plain values — <see cref="string"/>, <see cref="long"/> (or <see cref="BigInteger"/> beyond
/// 64 bits), <see cref="double"/>, <see cref="bool"/>, <c>null</c> for None, <c>byte[]</c>, <see cref="PickleTuple"/>,
/// <see cref="List{T}"/> of object and <see cref="PickleDict"/> — and hands every global, call, BUILD and persistent
/// id to an <see cref="IPickleResolver"/>, which refuses whatever is not on its allow-list. No code is ever loaded or
/// executed.
/// </summary>
/// <remarks>
/// <para>Source: CPython <c>Lib/pickle.py</c> (<c>_Unpickler</c>: the stack, the mark stack, the memo, opcode
/// semantics) and <c>Lib/pickletools.py</c> (argument encodings). Protocols 2 to 5 are accepted (PyTorch writes 2).</para>
/// <para>Every length read from the data is checked against the bytes that remain, so a truncated or hostile pickle
/// gives a <see cref="CheckpointException"/> naming the byte offset, never an out-of-range read or a huge allocation.</para>
/// </remarks>
public sealed class PickleReader
{
    /// <summary>The newest protocol this reader accepts (Python 3.8+ writes up to 5).</summary>
    public const int HighestProtocol = 5;

    readonly byte[] data;
    readonly int end;
    readonly string source;
    readonly IPickleResolver resolver;
    readonly List<object?> stack = [];
    readonly Stack<int> marks = new();
    readonly Dictionary<long, object?> memo = [];
    int position;
    int protocol;

    /// <summary>A reader for the pickle that starts at <paramref name="start"/> in <paramref name="data"/>.</summary>
    /// <param name="source">names the data in error messages, e.g. <c>pytorch_model.bin (data.pkl)</c>.</param>
    public PickleReader(byte[] data, int start, string source, IPickleResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, data.Length);
        this.data = data;
        end = data.Length;
        position = start;
        this.source = source;
        this.resolver = resolver;
    }

    /// <summary>The offset just after the STOP opcode once <see cref="Load"/> returned (where the next pickle starts).</summary>
    public int Position => position;

    /// <summary>Runs the pickle up to its STOP opcode and returns the value left on the stack.</summary>
    /// <exception cref="CheckpointException">truncated data, an unsupported opcode or protocol, a malformed stack or memo.</exception>
    /// <exception cref="UnsafeCheckpointException">a global that the resolver does not allow (thrown at that opcode).</exception>
    public object? Load()
    {
        while (true)
        {
            int opcodeAt = position;
            var op = (PickleOpcode)ReadByte("an opcode");
            switch (op)
            {
                case PickleOpcode.Proto:
                    protocol = ReadByte("the protocol number");
                    if (protocol < 2 || protocol > HighestProtocol)
                        throw Error(opcodeAt, $"pickle protocol {protocol} is not supported (only 2 to {HighestProtocol})");
                    break;
                case PickleOpcode.Frame:
                    ReadSpan(8, "a frame length");    // framing only groups opcodes; the data is already in memory
                    break;
                case PickleOpcode.Stop:
                    if (stack.Count != 1 || marks.Count != 0)
                        throw Error(opcodeAt, $"STOP with {stack.Count} values on the stack and {marks.Count} open marks (expected exactly one value)");
                    return stack[0];

                case PickleOpcode.Mark: marks.Push(stack.Count); break;
                case PickleOpcode.Pop:
                    if (stack.Count > 0 && (marks.Count == 0 || marks.Peek() < stack.Count)) stack.RemoveAt(stack.Count - 1);
                    else PopMark(opcodeAt);
                    break;
                case PickleOpcode.PopMark: PopMark(opcodeAt); break;
                case PickleOpcode.Dup: Push(Peek(opcodeAt)); break;

                case PickleOpcode.None: Push(null); break;
                case PickleOpcode.NewTrue: Push(true); break;
                case PickleOpcode.NewFalse: Push(false); break;
                case PickleOpcode.BinInt: Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4, "a BININT"))); break;
                case PickleOpcode.BinInt1: Push((long)ReadByte("a BININT1")); break;
                case PickleOpcode.BinInt2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2, "a BININT2"))); break;
                case PickleOpcode.Long1: Push(ReadLong(ReadByte("a LONG1 length"))); break;
                case PickleOpcode.Long4:
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4, "a LONG4 length"));
                        if (n < 0) throw Error(opcodeAt, $"negative LONG4 length {n}");
                        Push(ReadLong(n));
                        break;
                    }
                case PickleOpcode.BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(ReadSpan(8, "a BINFLOAT"))); break;

                case PickleOpcode.ShortBinUnicode: Push(ReadUtf8(ReadByte("a string length"), opcodeAt)); break;
                case PickleOpcode.BinUnicode: Push(ReadUtf8(ReadLength32(), opcodeAt)); break;
                case PickleOpcode.BinUnicode8: Push(ReadUtf8(ReadLength64(), opcodeAt)); break;
                // Python 2 str: PyTorch loads with encoding='utf-8', so these decode like unicode strings.
                case PickleOpcode.ShortBinString: Push(ReadUtf8(ReadByte("a string length"), opcodeAt)); break;
                case PickleOpcode.BinString: Push(ReadUtf8(ReadLength32(), opcodeAt)); break;
                case PickleOpcode.ShortBinBytes: Push(ReadSpan(ReadByte("a bytes length"), "bytes").ToArray()); break;
                case PickleOpcode.BinBytes: Push(ReadSpan(ReadLength32(), "bytes").ToArray()); break;
                case PickleOpcode.BinBytes8: Push(ReadSpan(ReadLength64(), "bytes").ToArray()); break;

                case PickleOpcode.EmptyTuple: Push(PickleTuple.Empty); break;
                case PickleOpcode.Tuple1: Push(new PickleTuple([Pop(opcodeAt)])); break;
                case PickleOpcode.Tuple2: { var b = Pop(opcodeAt); var a = Pop(opcodeAt); Push(new PickleTuple([a, b])); break; }
                case PickleOpcode.Tuple3: { var c = Pop(opcodeAt); var b = Pop(opcodeAt); var a = Pop(opcodeAt); Push(new PickleTuple([a, b, c])); break; }
                case PickleOpcode.Tuple: Push(new PickleTuple(PopMark(opcodeAt).ToArray())); break;
                case PickleOpcode.EmptyList: Push(new List<object?>()); break;
                case PickleOpcode.EmptyDict: Push(new PickleDict()); break;

                case PickleOpcode.Append: { var item = Pop(opcodeAt); ListAt(Peek(opcodeAt), opcodeAt).Add(item); break; }
                case PickleOpcode.Appends: { var items = PopMark(opcodeAt); ListAt(Peek(opcodeAt), opcodeAt).AddRange(items); break; }
                case PickleOpcode.SetItem:
                    {
                        var value = Pop(opcodeAt);
                        var key = Pop(opcodeAt);
                        SetItem(Peek(opcodeAt), key, value, opcodeAt);
                        break;
                    }
                case PickleOpcode.SetItems:
                    {
                        var items = PopMark(opcodeAt);
                        if (items.Count % 2 != 0) throw Error(opcodeAt, $"SETITEMS with an odd number of values ({items.Count})");
                        var target = Peek(opcodeAt);
                        for (int i = 0; i < items.Count; i += 2) SetItem(target, items[i], items[i + 1], opcodeAt);
                        break;
                    }

                case PickleOpcode.BinPut: memo[ReadByte("a memo index")] = Peek(opcodeAt); break;
                case PickleOpcode.LongBinPut: memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "a memo index"))] = Peek(opcodeAt); break;
                case PickleOpcode.Memoize: memo[memo.Count] = Peek(opcodeAt); break;
                case PickleOpcode.BinGet: Push(MemoGet(ReadByte("a memo index"), opcodeAt)); break;
                case PickleOpcode.LongBinGet: Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "a memo index")), opcodeAt)); break;

                case PickleOpcode.Global:
                    {
                        string module = ReadLine(opcodeAt);
                        string name = ReadLine(opcodeAt);
                        Push(Resolve(module, name));
                        break;
                    }
                case PickleOpcode.StackGlobal:
                    {
                        var name = Pop(opcodeAt);
                        var module = Pop(opcodeAt);
                        if (module is not string m || name is not string n)
                            throw Error(opcodeAt, "STACK_GLOBAL needs a module name and a global name (two strings)");
                        Push(Resolve(m, n));
                        break;
                    }
                case PickleOpcode.Reduce:
                    {
                        var args = Pop(opcodeAt) as PickleTuple ?? throw Error(opcodeAt, "REDUCE arguments are not a tuple");
                        var callable = Pop(opcodeAt);
                        Push(resolver.Call(callable, args, isNewObj: false));
                        break;
                    }
                case PickleOpcode.NewObj:
                    {
                        var args = Pop(opcodeAt) as PickleTuple ?? throw Error(opcodeAt, "NEWOBJ arguments are not a tuple");
                        var cls = Pop(opcodeAt);
                        Push(resolver.Call(cls, args, isNewObj: true));
                        break;
                    }
                case PickleOpcode.Build:
                    {
                        var state = Pop(opcodeAt);
                        resolver.Build(Peek(opcodeAt), state);
                        break;
                    }
                case PickleOpcode.BinPersId: Push(resolver.PersistentLoad(Pop(opcodeAt))); break;

                default:
                    throw Error(opcodeAt, $"unsupported pickle opcode {Describe((byte)op)} (a state dict needs only the protocol 2-5 opcodes for strings, numbers, tuples, lists, dicts, the memo, globals, REDUCE, BUILD and persistent ids)");
            }
        }
    }

    object Resolve(string module, string name)
    {
        if (protocol < 3) (module, name) = Python2Names.ToPython3(module, name);
        return resolver.ResolveGlobal(module, name);
    }

    void Push(object? value) => stack.Add(value);

    object? Pop(int at)
    {
        int floor = marks.Count > 0 ? marks.Peek() : 0;
        if (stack.Count <= floor) throw Error(at, "the pickle stack is empty where a value is needed");
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    object? Peek(int at)
    {
        int floor = marks.Count > 0 ? marks.Peek() : 0;
        if (stack.Count <= floor) throw Error(at, "the pickle stack is empty where a value is needed");
        return stack[^1];
    }

    /// <summary>Pops everything above the most recent MARK, and the mark.</summary>
    List<object?> PopMark(int at)
    {
        if (marks.Count == 0) throw Error(at, "no MARK to pop to");
        int start = marks.Pop();
        var items = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    List<object?> ListAt(object? target, int at) =>
        target as List<object?> ?? throw Error(at, $"APPEND to {Describe(target)}, not a list");

    void SetItem(object? target, object? key, object? value, int at)
    {
        if (target is not PickleDict dict) throw Error(at, $"SETITEM on {Describe(target)}, not a dict");
        if (key is null or PickleDict or List<object?>) throw Error(at, $"unsupported dict key ({Describe(key)})");
        dict.Set(key, value);
    }

    object? MemoGet(long index, int at) =>
        memo.TryGetValue(index, out var value) ? value : throw Error(at, $"memo entry {index} is read before it is written");

    byte ReadByte(string what)
    {
        if (position >= end) throw Truncated(what);
        return data[position++];
    }

    ReadOnlySpan<byte> ReadSpan(long length, string what)
    {
        if (length < 0 || length > end - position) throw Truncated(what);
        var span = data.AsSpan(position, (int)length);
        position += (int)length;
        return span;
    }

    int ReadLength32()
    {
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "a length"));
        if (n > end - position) throw Truncated($"a string of {n} bytes");
        return (int)n;
    }

    long ReadLength64()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(ReadSpan(8, "a length"));
        if (n > (ulong)(end - position)) throw Truncated($"a value of {n} bytes");
        return (long)n;
    }

    string ReadUtf8(long length, int at)
    {
        var bytes = ReadSpan(length, "a string");
        try { return Strict.GetString(bytes); }
        catch (DecoderFallbackException) { throw Error(at, "a string is not valid UTF-8"); }
    }

    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A two's-complement little-endian integer of <paramref name="length"/> bytes (LONG1 / LONG4).</summary>
    object ReadLong(int length)
    {
        var bytes = ReadSpan(length, "a long integer");
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        // Box a long where it fits: a conditional of long and BigInteger would convert the long back to BigInteger,
        // and every LONG1 value (Python pickles integers of 2^31 and beyond so) would then be refused as not an integer.
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    /// <summary>A newline-terminated ASCII line (the module and name of GLOBAL).</summary>
    string ReadLine(int at)
    {
        int newline = Array.IndexOf(data, (byte)'\n', position, end - position);
        if (newline < 0) throw Truncated("a GLOBAL name");
        var bytes = data.AsSpan(position, newline - position);
        position = newline + 1;
        foreach (byte b in bytes)
            if (b < 0x20 || b > 0x7e) throw Error(at, "a GLOBAL name holds non-printable bytes");
        return Encoding.ASCII.GetString(bytes);
    }

    CheckpointException Truncated(string what) =>
        new($"{source}: the pickle ends early (reading {what} at byte {position} of {end})");

    CheckpointException Error(int at, string message) => new($"{source}: {message} (pickle byte {at})");

    static string Describe(byte op)
    {
        char c = (char)op;
        string name = op switch
        {
            (byte)'i' => "INST", (byte)'o' => "OBJ", (byte)'I' => "INT", (byte)'L' => "LONG", (byte)'F' => "FLOAT",
            (byte)'S' => "STRING", (byte)'V' => "UNICODE", (byte)'P' => "PERSID", (byte)'p' => "PUT", (byte)'g' => "GET",
            (byte)'l' => "LIST", (byte)'d' => "DICT", (byte)'(' => "MARK", 0x82 => "EXT1", 0x83 => "EXT2", 0x84 => "EXT4",
            0x8f => "EMPTY_SET", 0x90 => "ADDITEMS", 0x91 => "FROZENSET", 0x92 => "NEWOBJ_EX", 0x96 => "BYTEARRAY8",
            0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER",
            _ => "",
        };
        string shown = c >= 0x20 && c < 0x7f ? $"'{c}' (0x{op:x2})" : $"0x{op:x2}";
        return name.Length > 0 ? $"{shown} {name}" : shown;
    }

    static string Describe(object? value) => value switch
    {
        null => "None",
        string => "a string",
        long or BigInteger => "an integer",
        PickleTuple => "a tuple",
        List<object?> => "a list",
        PickleDict => "a dict",
        _ => $"a {value.GetType().Name}",
    };
}
