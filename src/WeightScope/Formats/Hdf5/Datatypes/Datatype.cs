using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Datatypes;

/// <summary>Datatype classes (specification §IV.A.2.d).</summary>
internal enum DatatypeClass
{
    FixedPoint = 0, FloatingPoint = 1, Time = 2, String = 3, BitField = 4, Opaque = 5, Compound = 6, Reference = 7,
    Enumerated = 8, VariableLength = 9, Array = 10,
}

/// <summary>
/// A parsed datatype message. Only what this reader maps is kept: the class, element size, byte order and sign, the
/// string padding, h5py's bool enum, and for variable-length strings the fact that they are strings.
/// </summary>
internal sealed record Datatype(DatatypeClass Class, int Size, bool BigEndian, bool Signed, bool IsBoolEnum, bool IsVlenString, int StringPadding)
{
    /// <summary>For an enumeration, its integer base type (h5py reads a non-bool enum as that integer type).</summary>
    public Datatype? EnumBase { get; private init; }

    /// <summary>For a compound, its members (name and type) in stored order; empty otherwise.</summary>
    public IReadOnlyList<(string Name, Datatype Type)> Members { get; private init; } = [];

    /// <summary>For an array or a variable-length sequence, the element type.</summary>
    public Datatype? Base { get; private init; }

    /// <summary>For an array, its dimensions.</summary>
    public long[] ArrayDims { get; private init; } = [];

    /// <summary>For fixed- and floating-point types, where the value's bits lie (N-bit writers narrow them); see <see cref="BitLayout"/>.</summary>
    public BitLayout? Bits { get; private init; }

    private const int ClassMask = 0x0f;
    private const int ByteOrderBit = 0x01;
    private const int SignedBit = 0x08;
    private const int VlenTypeMask = 0x03;
    private const int VlenTypeString = 1;
    private const int EnumVersionWithPaddedNames = 3;
    private const int CompoundVersionWithDims = 1;      // version 1 members carry an (unused) array description
    private const int CompoundVersionPacked = 3;        // version 3: unpadded names, offsets in as few bytes as needed
    private const int CompoundV1DimsSize = 28;          // dimensionality 1, reserved 3, permutation 4, reserved 4, dims 16
    private const int ArrayVersionWithPermutation = 2;
    private const int MaxNesting = 32;                  // compounds of arrays of compounds…: bounded like every recursion

    /// <summary>Parses a datatype message body.</summary>
    public static Datatype Read(ref SpanReader r, string path) => Read(ref r, path, 0);

    private static Datatype Read(ref SpanReader r, string path, int depth)
    {
        long at = r.Offset;
        if (depth > MaxNesting) throw Hdf5Errors.Invalid($"datatype is nested deeper than {MaxNesting} levels", at, path);
        int classAndVersion = r.ReadByte();
        var cls = (DatatypeClass)(classAndVersion & ClassMask);
        int version = classAndVersion >> 4;
        var bits = r.ReadBytes(3);
        int size = checked((int)r.ReadUInt32());
        bool bigEndian = (bits[0] & ByteOrderBit) != 0;
        switch (cls)
        {
            case DatatypeClass.FixedPoint:
                return new Datatype(cls, size, bigEndian, (bits[0] & SignedBit) != 0, false, false, 0) { Bits = BitLayout.ReadFixed(ref r) };
            case DatatypeClass.FloatingPoint:
                return new Datatype(cls, size, bigEndian, true, false, false, 0) { Bits = BitLayout.ReadFloat(ref r, bits) };
            case DatatypeClass.String:
                return new Datatype(cls, size, false, false, false, false, bits[0] & 0x0f);
            case DatatypeClass.Enumerated:
                return ReadEnum(ref r, version, bits, size, path, depth);
            case DatatypeClass.VariableLength:
                bool isString = (bits[0] & VlenTypeMask) == VlenTypeString;
                var element = Read(ref r, path, depth + 1);
                return new Datatype(cls, size, false, false, false, isString, (bits[0] >> 4) & 0x0f) { Base = element };
            case DatatypeClass.Compound:
                return ReadCompound(ref r, version, bits, size, path, depth);
            case DatatypeClass.Array:
                return ReadArray(ref r, version, size, path, depth);
            case DatatypeClass.Time:
                r.ReadUInt16(); // bit precision
                return new Datatype(cls, size, bigEndian, false, false, false, 0);
            case DatatypeClass.BitField:
                r.ReadBytes(4); // bit offset, bit precision
                return new Datatype(cls, size, bigEndian, false, false, false, 0);
            case DatatypeClass.Opaque:
                r.ReadBytes(bits[0]); // ASCII tag, NUL-padded to a multiple of 8 bytes
                return new Datatype(cls, size, bigEndian, false, false, false, 0);
            default: // references carry no properties
                return new Datatype(cls, size, bigEndian, false, false, false, 0);
        }
    }

    // Compound members (§IV.A.2.d, class 6): name, byte offset, [v1: array description,] member type.
    private static Datatype ReadCompound(ref SpanReader r, int version, ReadOnlySpan<byte> bits, int size, string path, int depth)
    {
        int count = bits[0] | (bits[1] << 8);
        int offsetBytes = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffff ? 3 : 4;
        var members = new List<(string, Datatype)>(Math.Min(count, r.Remaining));
        for (int i = 0; i < count; i++)
        {
            string name = ReadName(ref r, padded: version < CompoundVersionPacked);
            if (version >= CompoundVersionPacked) Hdf5File.ReadUnsigned(ref r, offsetBytes);
            else r.ReadUInt32();
            if (version == CompoundVersionWithDims) r.ReadBytes(CompoundV1DimsSize);
            members.Add((name, Read(ref r, path, depth + 1)));
        }
        return new Datatype(DatatypeClass.Compound, size, false, false, false, false, 0) { Members = members };
    }

    // Array (class 10): rank, dimensions, [v2: permutation,] element type.
    private static Datatype ReadArray(ref SpanReader r, int version, int size, string path, int depth)
    {
        int rank = r.ReadByte();
        if (version == ArrayVersionWithPermutation) r.ReadBytes(3);
        var dims = new long[rank];
        for (int i = 0; i < rank; i++) dims[i] = r.ReadUInt32();
        if (version == ArrayVersionWithPermutation) r.ReadBytes(4 * rank);
        var element = Read(ref r, path, depth + 1);
        return new Datatype(DatatypeClass.Array, size, false, false, false, false, 0) { Base = element, ArrayDims = dims };
    }

    // h5py stores numpy bool as an enum of int8 with members FALSE = 0 and TRUE = 1.
    // All names, then all values, are consumed so that an enum inside a compound leaves the reader at the next member.
    private static Datatype ReadEnum(ref SpanReader r, int version, ReadOnlySpan<byte> bits, int size, string path, int depth)
    {
        int members = bits[0] | (bits[1] << 8);
        var baseType = Read(ref r, path, depth + 1);
        var names = new List<string>(Math.Min(members, r.Remaining));
        for (int i = 0; i < members; i++) names.Add(ReadName(ref r, padded: version < EnumVersionWithPaddedNames));
        var values = r.ReadBytes(checked(members * baseType.Size));
        bool isBool = members == 2 && baseType.Class == DatatypeClass.FixedPoint && baseType.Size == 1
            && names[0] == "FALSE" && names[1] == "TRUE" && values[0] == 0 && values[1] == 1;
        return new Datatype(DatatypeClass.Enumerated, size, baseType.BigEndian, baseType.Signed, isBool, false, 0) { EnumBase = baseType };
    }

    // A NUL-terminated name; versions before 3 pad it (with its NUL) to a multiple of 8 bytes.
    private static string ReadName(ref SpanReader r, bool padded)
    {
        int start = r.Position;
        while (r.ReadByte() != 0) { }
        string name = System.Text.Encoding.UTF8.GetString(r.Data[start..(r.Position - 1)]);
        if (padded) r.ReadBytes((8 - (r.Position - start) % 8) % 8);
        return name;
    }

    /// <summary>The tensor element type, or null when the datatype is not numeric (strings, compounds, …).</summary>
    public DType? ToDType() => Class switch
    {
        DatatypeClass.FloatingPoint => Size switch { 2 => DType.Float16, 4 => DType.Float32, 8 => DType.Float64, _ => null },
        DatatypeClass.FixedPoint => (Size, Signed) switch
        {
            (1, true) => DType.Int8, (1, false) => DType.UInt8, (2, true) => DType.Int16, (2, false) => DType.UInt16,
            (4, true) => DType.Int32, (4, false) => DType.UInt32, (8, true) => DType.Int64, (8, false) => DType.UInt64, _ => null,
        },
        // h5py reads a bitfield (H5T_STD_B8LE…B64BE) as the unsigned integer of its size.
        DatatypeClass.BitField => Size switch { 1 => DType.UInt8, 2 => DType.UInt16, 4 => DType.UInt32, 8 => DType.UInt64, _ => null },
        DatatypeClass.Enumerated when IsBoolEnum => DType.Bool,
        DatatypeClass.Enumerated => EnumBase?.ToDType(),
        _ => null,
    };

    /// <summary>
    /// numpy's spelling of the type, as h5py would map it: <c>&lt;f4</c>, <c>|S8</c>, <c>|b1</c>, and for types numpy has
    /// no scalar for, <c>str</c> (variable-length string), <c>vlen&lt;…&gt;</c>, <c>ref</c>, <c>array[2,3]…</c>,
    /// <c>compound{a:&lt;f4,b:&gt;i4}</c>.
    /// </summary>
    public string NumpyCode() => Class switch
    {
        DatatypeClass.FixedPoint => $"{Order(Size, BigEndian)}{(Signed ? 'i' : 'u')}{Size}",
        DatatypeClass.BitField when Size is 1 or 2 or 4 or 8 => $"{Order(Size, BigEndian)}u{Size}",
        DatatypeClass.FloatingPoint => $"{Order(Size, BigEndian)}f{Size}",
        DatatypeClass.Enumerated when IsBoolEnum => "|b1",
        DatatypeClass.Enumerated => EnumBase?.NumpyCode() ?? $"|V{Size}",
        DatatypeClass.String => $"|S{Size}",
        DatatypeClass.VariableLength when IsVlenString => "str",
        DatatypeClass.VariableLength => $"vlen<{Base?.NumpyCode()}>",
        DatatypeClass.Reference => "ref",
        DatatypeClass.Array => $"array[{string.Join(',', ArrayDims)}]{Base?.NumpyCode()}",
        DatatypeClass.Compound => $"compound{{{string.Join(',', Members.Select(m => $"{m.Name}:{m.Type.NumpyCode()}"))}}}",
        _ => $"|V{Size}",
    };

    private static string Order(int size, bool bigEndian) => size == 1 ? "|" : bigEndian ? ">" : "<";

    /// <summary>A short description for messages ("compound", "variable-length string").</summary>
    public string Describe() => IsVlenString ? "variable-length string" : Class switch
    {
        DatatypeClass.VariableLength => "variable-length sequence",
        DatatypeClass.Enumerated => "enumeration",
        _ => $"{Class.ToString().ToLowerInvariant()} of {Size} bytes",
    };
}
