using System.Numerics;
using MixLens.Engine.Conversion;
using MixLens.Engine.Conversion.Pickle;

namespace MixLens.Tests.Convert;

/// <summary>The restricted unpickler on hand-built pickles: values, memo, marks, and what it refuses.</summary>
public class PickleReaderTests
{
    /// <summary>A resolver that allows nothing (so plain-value pickles must never reach it).</summary>
    sealed class NothingAllowed : IPickleResolver
    {
        public object ResolveGlobal(string module, string name) => throw new UnsafeCheckpointException($"refused {module}.{name}", $"{module}.{name}");
        public object? Call(object? callable, PickleTuple args, bool isNewObj) => throw new InvalidOperationException("no calls expected");
        public void Build(object? target, object? state) => throw new InvalidOperationException("no BUILD expected");
        public object PersistentLoad(object? persistentId) => throw new InvalidOperationException("no persistent ids expected");
    }

    static object? Load(byte[] pickle) => new PickleReader(pickle, 0, "test.pkl", new NothingAllowed()).Load();

    [Fact]
    public void PlainValues_AreBuiltWithTheirTypes()
    {
        // {'a': (1, 300, -5, 2**70, 1.5, True, False, None), 'b': [x, x]} with 'x' memoised and fetched back.
        var pickle = new PickleBuilder(protocol: 4).Op(0x95).Raw(new byte[8])    // FRAME (length ignored)
            .Op('}').Op(0x94).Op('(')
            .Str("a").Op('(').Int(1).Op('M').Raw([0x2c, 0x01]).Int(-5)
            .Op(0x8a).Byte(9).Raw([0, 0, 0, 0, 0, 0, 0, 0, 0x40])                 // LONG1 2**70
            .Op('G').Raw(BitConverter.GetBytes(1.5).Reverse().ToArray())         // BINFLOAT is big-endian
            .Op(0x88).Op(0x89).Op('N').Op('t')
            .Str("b").Op(']').Op('(').Str("x").Op('q').Byte(7).Op('h').Byte(7).Op('e')
            .Op('u').Stop();

        var dict = Assert.IsType<PickleDict>(Load(pickle));
        Assert.Equal(["a", "b"], dict.Entries.Select(e => (string)e.Key));
        var tuple = Assert.IsType<PickleTuple>(dict.Entries[0].Value);
        Assert.Equal(new object?[] { 1L, 300L, -5L, BigInteger.Pow(2, 70), 1.5, true, false, null }, tuple.Items);
        Assert.Equal(new object?[] { "x", "x" }, Assert.IsType<List<object?>>(dict.Entries[1].Value));
    }

    [Fact]
    public void Long1WithinInt64_IsALong()
    {
        // Python pickles 2**31 and beyond (a storage of 2**31 elements, an offset past 2 GiB) with LONG1; found by
        // fuzzing: such values came back as BigInteger and were refused as "not an integer".
        var pickle = new PickleBuilder().Op(0x8a).Byte(5).Raw([0, 0, 0, 0x80, 0]).Op(0x8a).Byte(8).Raw([0, 0, 0, 0, 0, 0, 0, 0x80]).Op(0x86).Stop();

        var tuple = Assert.IsType<PickleTuple>(Load(pickle));

        Assert.Equal(2147483648L, Assert.IsType<long>(tuple[0]));
        Assert.Equal(long.MinValue, Assert.IsType<long>(tuple[1]));
    }

    [Fact]
    public void Global_IsRefusedAtItsOpcode_BeforeAnythingElseIsRead()
    {
        // The bytes after the GLOBAL are garbage: the refusal must come first.
        var pickle = new PickleBuilder().Global("os", "system").Raw([0xff, 0xff, 0xff]).Stop();
        var e = Assert.Throws<UnsafeCheckpointException>(() => Load(pickle));
        Assert.Equal("os.system", e.GlobalName);
    }

    [Fact]
    public void Protocol2Globals_AreRenamedAsPythonDoes()
    {
        var pickle = new PickleBuilder().Global("__builtin__", "getattr").Stop();
        Assert.Equal("builtins.getattr", Assert.Throws<UnsafeCheckpointException>(() => Load(pickle)).GlobalName);
        var protocol4 = new PickleBuilder(protocol: 4).Global("__builtin__", "getattr").Stop();
        Assert.Equal("__builtin__.getattr", Assert.Throws<UnsafeCheckpointException>(() => Load(protocol4)).GlobalName);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'h', 3, (byte)'.' }, "memo entry 3 is read before it is written")]
    [InlineData(new byte[] { 0x80, 2, (byte)'t', (byte)'.' }, "no MARK to pop to")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'.' }, "STOP with 2 values on the stack")]
    [InlineData(new byte[] { 0x80, 2, (byte)'s', (byte)'.' }, "the pickle stack is empty")]
    [InlineData(new byte[] { 0x80, 2, (byte)']', (byte)'K', 1, (byte)'K', 2, (byte)'s', (byte)'.' }, "SETITEM on a list, not a dict")]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f }, "the pickle ends early")]
    [InlineData(new byte[] { 0x80, 2, 0x8f, (byte)'.' }, "unsupported pickle opcode 0x8f EMPTY_SET")]
    public void MalformedPickles_GiveClearErrors(byte[] pickle, string phrase)
    {
        var e = Assert.Throws<CheckpointException>(() => Load(pickle));
        Assert.StartsWith("test.pkl: ", e.Message);
        Assert.Contains(phrase, e.Message);
    }

    [Fact]
    public void TorchGlobals_AllowListResolvesOnlyStateDictNames()
    {
        var globals = new TorchGlobals("ckpt.bin", _ => throw new InvalidOperationException());
        Assert.Equal(TorchGlobalKind.RebuildTensorV2, ((TorchGlobal)globals.ResolveGlobal("torch._utils", "_rebuild_tensor_v2")).Kind);
        Assert.Equal(TorchGlobalKind.OrderedDict, ((TorchGlobal)globals.ResolveGlobal("collections", "OrderedDict")).Kind);
        var storage = (TorchGlobal)globals.ResolveGlobal("torch", "BFloat16Storage");
        Assert.Equal((TorchGlobalKind.StorageType, Engine.SafeTensors.DType.BF16), (storage.Kind, storage.StorageDType));
        foreach (var (module, name) in new[] { ("torch", "load"), ("torch._utils", "_rebuild_qtensor"), ("collections", "defaultdict"), ("builtins", "getattr"), ("numpy", "frombuffer"), ("torch", "Storage") })
            Assert.Throws<UnsafeCheckpointException>(() => globals.ResolveGlobal(module, name));
    }
}
