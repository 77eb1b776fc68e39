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

    private const int ClassMask = 0x0f;
    private const int ByteOrderBit = 0x01;
    private const int SignedBit = 0x08;
    private const int VlenTypeMask = 0x03;
    private const int VlenTypeString = 1;
    private const int EnumVersionWithPaddedNames = 3;

    /// <summary>Parses a datatype message body.</summary>
    public static Datatype Read(ref SpanReader r, string path)
    {
        long at = r.Offset;
        int classAndVersion = r.ReadByte();
        var cls = (DatatypeClass)(classAndVersion & ClassMask);
        int version = classAndVersion >> 4;
        var bits = r.ReadBytes(3);
        int size = checked((int)r.ReadUInt32());
        bool bigEndian = (bits[0] & ByteOrderBit) != 0;
        switch (cls)
        {
            case DatatypeClass.FixedPoint:
                r.ReadBytes(4);
                return new Datatype(cls, size, bigEndian, (bits[0] & SignedBit) != 0, false, false, 0);
            case DatatypeClass.FloatingPoint:
                r.ReadBytes(12);
                return new Datatype(cls, size, bigEndian, true, false, false, 0);
            case DatatypeClass.String:
                return new Datatype(cls, size, false, false, false, false, bits[0] & 0x0f);
            case DatatypeClass.Enumerated:
                return ReadEnum(ref r, version, bits, size, path);
            case DatatypeClass.VariableLength:
                bool isString = (bits[0] & VlenTypeMask) == VlenTypeString;
                return new Datatype(cls, size, false, false, false, isString, (bits[0] >> 4) & 0x0f);
            default:
                return new Datatype(cls, size, bigEndian, false, false, false, 0);
        }
    }

    // h5py stores numpy bool as an enum of int8 with members FALSE = 0 and TRUE = 1.
    private static Datatype ReadEnum(ref SpanReader r, int version, ReadOnlySpan<byte> bits, int size, string path)
    {
        int members = bits[0] | (bits[1] << 8);
        var baseType = Read(ref r, path);
        bool isBool = false;
        if (members == 2 && baseType.Class == DatatypeClass.FixedPoint && baseType.Size == 1)
        {
            var names = new string[2];
            for (int i = 0; i < 2; i++) names[i] = ReadEnumName(ref r, version);
            var values = r.ReadBytes(2);
            isBool = names[0] == "FALSE" && names[1] == "TRUE" && values[0] == 0 && values[1] == 1;
        }
        return new Datatype(DatatypeClass.Enumerated, size, baseType.BigEndian, baseType.Signed, isBool, false, 0) { EnumBase = baseType };
    }

    private static string ReadEnumName(ref SpanReader r, int version)
    {
        int start = r.Position;
        while (r.ReadByte() != 0) { }
        string name = System.Text.Encoding.UTF8.GetString(r.Data[start..(r.Position - 1)]);
        if (version < EnumVersionWithPaddedNames)
        {
            int pad = (8 - (r.Position - start) % 8) % 8;
            r.ReadBytes(pad);
        }
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
        DatatypeClass.Enumerated when IsBoolEnum => DType.Bool,
        DatatypeClass.Enumerated => EnumBase?.ToDType(),
        _ => null,
    };

    /// <summary>A short description for messages ("compound", "variable-length string").</summary>
    public string Describe() => IsVlenString ? "variable-length string" : Class switch
    {
        DatatypeClass.VariableLength => "variable-length sequence",
        DatatypeClass.Enumerated => "enumeration",
        _ => $"{Class.ToString().ToLowerInvariant()} of {Size} bytes",
    };
}
