namespace MixLens.Engine.Conversion.Pickle;

/// <summary>
/// The pickle opcodes the restricted unpickler understands: those that protocols 2–5 use to write a PyTorch state
/// dict (strings, integers, floats, booleans, None, tuples, lists, dicts, the memo, globals, REDUCE/BUILD/NEWOBJ and
/// persistent ids). Every other opcode (INST, OBJ, EXT*, the text opcodes of protocol 0, sets, out-of-band buffers…)
/// is rejected.
/// </summary>
/// <remarks>Source: CPython <c>Lib/pickle.py</c> and <c>Lib/pickletools.py</c> (opcode table and argument formats).</remarks>
public enum PickleOpcode : byte
{
    Mark = (byte)'(',
    Stop = (byte)'.',
    Pop = (byte)'0',
    PopMark = (byte)'1',
    Dup = (byte)'2',
    BinFloat = (byte)'G',
    BinInt = (byte)'J',
    BinInt1 = (byte)'K',
    BinInt2 = (byte)'M',
    None = (byte)'N',
    BinPersId = (byte)'Q',
    Reduce = (byte)'R',
    BinString = (byte)'T',
    ShortBinString = (byte)'U',
    BinUnicode = (byte)'X',
    Append = (byte)'a',
    Build = (byte)'b',
    Global = (byte)'c',
    EmptyDict = (byte)'}',
    Appends = (byte)'e',
    BinGet = (byte)'h',
    LongBinGet = (byte)'j',
    EmptyList = (byte)']',
    BinPut = (byte)'q',
    LongBinPut = (byte)'r',
    SetItem = (byte)'s',
    Tuple = (byte)'t',
    EmptyTuple = (byte)')',
    SetItems = (byte)'u',
    BinBytes = (byte)'B',
    ShortBinBytes = (byte)'C',
    Proto = 0x80,
    NewObj = 0x81,
    Tuple1 = 0x85,
    Tuple2 = 0x86,
    Tuple3 = 0x87,
    NewTrue = 0x88,
    NewFalse = 0x89,
    Long1 = 0x8a,
    Long4 = 0x8b,
    ShortBinUnicode = 0x8c,
    BinUnicode8 = 0x8d,
    BinBytes8 = 0x8e,
    StackGlobal = 0x93,
    Memoize = 0x94,
    Frame = 0x95,
}
