using System.Buffers.Binary;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>
/// Datatype message bodies (specification §IV.A.2.d), version 1, little-endian, as libhdf5 encodes the types h5py maps
/// numpy dtypes to: <c>H5T_IEEE_F16LE/F32LE/F64LE</c>, <c>H5T_STD_I8LE…U64LE</c>, bool as h5py's enum of int8
/// (<c>FALSE</c> = 0, <c>TRUE</c> = 1), and fixed-length NUL-padded ASCII strings (numpy <c>|S&lt;n&gt;</c>).
/// </summary>
internal static class H5Datatypes
{
    private const int Version = 1;
    private const int ClassFixedPoint = 0;
    private const int ClassFloatingPoint = 1;
    private const int ClassString = 3;
    private const int ClassEnumerated = 8;

    // Fixed-point bit field, bit 3: signed (two's complement). Bit 0 (byte order) is 0: little-endian.
    private const int FixedSigned = 0x08;
    // Floating-point bit field, bits 4–5 = 2: the mantissa's leading 1 is implied (IEEE normalisation).
    private const int FloatImpliedMsb = 0x20;
    // String bit field: padding type 1 = null pad (numpy's |S), character set 0 = ASCII.
    private const int StringNullPad = 0x01;

    /// <summary>True when <paramref name="dtype"/> has an HDF5 type h5py would write for it.</summary>
    public static bool CanWrite(DType dtype) => dtype is DType.Float16 or DType.Float32 or DType.Float64 or DType.Bool
        or DType.Int8 or DType.UInt8 or DType.Int16 or DType.UInt16 or DType.Int32 or DType.UInt32 or DType.Int64 or DType.UInt64;

    /// <summary>The datatype message body for a tensor dtype (<see cref="CanWrite"/> must hold).</summary>
    public static byte[] For(DType dtype) => dtype switch
    {
        DType.Float16 => Float(2, exponentLocation: 10, exponentSize: 5, mantissaSize: 10, bias: 15),
        DType.Float32 => Float(4, exponentLocation: 23, exponentSize: 8, mantissaSize: 23, bias: 127),
        DType.Float64 => Float64(),
        DType.Int8 or DType.Int16 or DType.Int32 or DType.Int64 => Fixed(dtype.ItemSize(), signed: true),
        DType.UInt8 or DType.UInt16 or DType.UInt32 or DType.UInt64 => Fixed(dtype.ItemSize(), signed: false),
        DType.Bool => BoolEnum(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no HDF5 type"),
    };

    /// <summary><c>H5T_IEEE_F64LE</c>.</summary>
    public static byte[] Float64() => Float(8, exponentLocation: 52, exponentSize: 11, mantissaSize: 52, bias: 1023);

    /// <summary>A fixed-length string of <paramref name="size"/> bytes, NUL-padded, ASCII (numpy <c>|S&lt;size&gt;</c>).</summary>
    public static byte[] FixedString(int size)
    {
        var b = new byte[8];
        Header(b, ClassString, StringNullPad, size);
        return b;
    }

    private static void Header(Span<byte> b, int cls, int bitField, int size)
    {
        b[0] = (byte)((Version << 4) | cls);
        b[1] = (byte)bitField;
        b[2] = (byte)(bitField >> 8);
        b[3] = (byte)(bitField >> 16);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)size);
    }

    private static byte[] Fixed(int size, bool signed)
    {
        var b = new byte[12];
        Header(b, ClassFixedPoint, signed ? FixedSigned : 0, size);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 0); // bit offset
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), (ushort)(size * 8)); // bit precision
        return b;
    }

    private static byte[] Float(int size, int exponentLocation, int exponentSize, int mantissaSize, uint bias)
    {
        var b = new byte[20];
        int signLocation = size * 8 - 1;
        Header(b, ClassFloatingPoint, FloatImpliedMsb | (signLocation << 8), size);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 0); // bit offset
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), (ushort)(size * 8)); // bit precision
        b[12] = (byte)exponentLocation;
        b[13] = (byte)exponentSize;
        b[14] = 0; // mantissa location
        b[15] = (byte)mantissaSize;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), bias);
        return b;
    }

    // h5py's bool: H5Tenum_create(H5T_NATIVE_INT8) with FALSE = 0 and TRUE = 1. Version 1 enums pad each name
    // (with its NUL) to a multiple of 8, then list the values in the base type.
    private static byte[] BoolEnum()
    {
        var baseType = Fixed(1, signed: true);
        var b = new byte[8 + baseType.Length + 16 + 2];
        Header(b, ClassEnumerated, 2, 1); // bit field: number of members
        baseType.CopyTo(b, 8);
        int p = 8 + baseType.Length;
        "FALSE"u8.CopyTo(b.AsSpan(p));
        "TRUE"u8.CopyTo(b.AsSpan(p + 8));
        b[p + 16] = 0;
        b[p + 17] = 1;
        return b;
    }
}
