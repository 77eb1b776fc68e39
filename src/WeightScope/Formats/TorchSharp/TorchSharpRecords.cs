using WeightScope.Tensors;

namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// TorchSharp's <c>ScalarType</c> numbering (the c10 numbering, which <c>Tensor.Save</c> writes as the element type):
/// Byte 0, Int8 1, Int16 2, Int32 3, Int64 4, Float16 5, Float32 6, Float64 7, ComplexFloat32 9, ComplexFloat64 10,
/// Bool 11, BFloat16 15.
/// </summary>
internal enum TorchSharpScalarType
{
    Byte = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Float16 = 5,
    Float32 = 6,
    Float64 = 7,
    ComplexFloat32 = 9,
    ComplexFloat64 = 10,
    Bool = 11,
    BFloat16 = 15,
}

/// <summary>
/// One saved tensor: <c>Tensor.Save</c> writes LEB128 element type, LEB128 rank, LEB128 dimensions, then the raw
/// little-endian elements; in a state dict (<c>Module.save</c>) each is preceded by its name (<c>BinaryWriter.Write(string)</c>:
/// 7-bit-encoded UTF-8 byte count, then the bytes).
/// </summary>
/// <param name="Name">The state-dict key; empty for a single-tensor file.</param>
/// <param name="EntryOffset">Where the entry (its name, or the element type for a single tensor) starts.</param>
/// <param name="ScalarType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="DataOffset">Where the raw elements start.</param>
/// <param name="DataBytes">Element count × element size.</param>
internal sealed record TorchSharpEntry(string Name, long EntryOffset, TorchSharpScalarType ScalarType, long[] Shape, long DataOffset, long DataBytes);

/// <summary>What a file holds: a module state dict (<c>Module.save</c>) or one tensor (<c>Tensor.Save</c>).</summary>
internal enum TorchSharpKind
{
    StateDict,
    Tensor,
}

/// <summary>A parsed file: its kind and entries in file order.</summary>
internal sealed record TorchSharpFile(TorchSharpKind Kind, List<TorchSharpEntry> Entries);

/// <summary>Layout constants and the dtype mapping.</summary>
internal static class TorchSharpRecords
{
    /// <summary>Longest accepted entry name in bytes; state-dict keys are dotted module paths, far shorter.</summary>
    public const int MaxNameBytes = 4096;

    /// <summary>Most dimensions accepted (PyTorch itself caps tensors at 64 dimensions).</summary>
    public const int MaxRank = 64;

    /// <summary>Smallest state-dict entry: 1-byte name length, 1-byte name, 1-byte type, 1-byte rank (a scalar of 1-byte elements adds 1).</summary>
    public const int MinEntryBytes = 4;

    /// <summary>LEB128 groups a 64-bit value can take (9 × 7 = 63 bits, plus one group for the top bit).</summary>
    public const int MaxLeb128Bytes = 10;

    /// <summary>The uniform dtype for a TorchSharp element type, or null when it is not one Tensor.Save writes.</summary>
    public static DType? ToDType(long code) => code switch
    {
        (long)TorchSharpScalarType.Byte => DType.UInt8,
        (long)TorchSharpScalarType.Int8 => DType.Int8,
        (long)TorchSharpScalarType.Int16 => DType.Int16,
        (long)TorchSharpScalarType.Int32 => DType.Int32,
        (long)TorchSharpScalarType.Int64 => DType.Int64,
        (long)TorchSharpScalarType.Float16 => DType.Float16,
        (long)TorchSharpScalarType.Float32 => DType.Float32,
        (long)TorchSharpScalarType.Float64 => DType.Float64,
        (long)TorchSharpScalarType.ComplexFloat32 => DType.Complex64,
        (long)TorchSharpScalarType.ComplexFloat64 => DType.Complex128,
        (long)TorchSharpScalarType.Bool => DType.Bool,
        (long)TorchSharpScalarType.BFloat16 => DType.BFloat16,
        _ => null,
    };
}
