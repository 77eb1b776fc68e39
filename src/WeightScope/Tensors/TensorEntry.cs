using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WeightScope.Tensors;

/// <summary>
/// One named tensor of a model file: what it is (name, dtype, shape, role) and where its values are
/// (a view into a <see cref="TensorStorage"/>: storage offset and strides in elements, as PyTorch describes a view).
/// Values are read only when asked for, and only this tensor's bytes.
/// </summary>
public sealed class TensorEntry
{
    /// <summary>Creates a view. The view must lie inside the storage (checked).</summary>
    /// <param name="name">Name as the framework would print it.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Dimensions.</param>
    /// <param name="storage">Where the bytes are.</param>
    /// <param name="storageOffset">First element's index within the storage (in elements).</param>
    /// <param name="strides">Strides in elements; null for C-contiguous.</param>
    /// <param name="role">What the tensor is to the model.</param>
    /// <param name="bigEndian">True when the stored elements are big-endian (NumPy <c>&gt;f4</c>).</param>
    /// <param name="quantization">Quantization parameters for quantized dtypes.</param>
    public TensorEntry(string name, DType dtype, Shape shape, TensorStorage storage, long storageOffset = 0,
        long[]? strides = null, TensorRole role = TensorRole.Other, bool bigEndian = false, QuantizationInfo? quantization = null)
    {
        strides ??= shape.ContiguousStrides();
        if (strides.Length != shape.Rank) throw new ArgumentException($"{strides.Length} strides for {shape.Rank} dimensions", nameof(strides));
        Name = name;
        DType = dtype;
        Shape = shape;
        Storage = storage;
        StorageOffset = storageOffset;
        Strides = strides;
        Role = role;
        IsBigEndian = bigEndian && dtype.ItemSize() > 1;
        Quantization = quantization;
        long needed = RequiredStorageBytes(shape, strides, storageOffset, dtype.ItemSize());
        if (needed > storage.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(storage),
                $"tensor '{name}' {dtype.Name()}{shape} (offset {storageOffset}, strides [{string.Join(", ", strides)}]) needs {needed} bytes but storage '{storage.Key}' has {storage.ByteLength}");
    }

    /// <summary>Name as the framework would print it (<c>fc1.weight</c>, <c>dense/kernel:0</c>).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>Strides in elements (PyTorch's <c>stride()</c>).</summary>
    public IReadOnlyList<long> Strides { get; }

    /// <summary>Index of the first element within <see cref="Storage"/> (PyTorch's <c>storage_offset()</c>).</summary>
    public long StorageOffset { get; }

    /// <summary>Parameter, buffer, optimizer state, or other.</summary>
    public TensorRole Role { get; }

    /// <summary>Quantization parameters (scale, zero point, axis) for quantized tensors.</summary>
    public QuantizationInfo? Quantization { get; }

    /// <summary>Where the bytes are; shared between views of one storage.</summary>
    public TensorStorage Storage { get; }

    /// <summary>True when elements are stored big-endian; values are swapped when read.</summary>
    public bool IsBigEndian { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.ElementCount;

    /// <summary>Bytes of this tensor's own values (elements × item size).</summary>
    public long ByteSize => checked(ElementCount * DType.ItemSize());

    /// <summary>True when the elements are laid out row-major without gaps (dimensions of size 1 ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Shape.Rank - 1; i >= 0; i--)
            {
                if (Shape[i] == 1) continue;
                if (Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>Bytes of storage a view needs: one past its furthest element. Checked arithmetic: a hostile file cannot overflow it.</summary>
    public static long RequiredStorageBytes(Shape shape, IReadOnlyList<long> strides, long storageOffset, int itemSize)
    {
        if (storageOffset < 0) throw new ArgumentOutOfRangeException(nameof(storageOffset), "negative storage offset");
        if (shape.ElementCount == 0) return checked(storageOffset * itemSize);
        long last = storageOffset;
        for (int i = 0; i < shape.Rank; i++)
        {
            if (strides[i] < 0) throw new ArgumentOutOfRangeException(nameof(strides), "negative stride");
            last = checked(last + (shape[i] - 1) * strides[i]);
        }
        return checked((last + 1) * itemSize);
    }

    /// <summary>
    /// Zero-copy access to the values when the tensor is contiguous, little-endian and its storage mapped or in memory.
    /// <typeparamref name="T"/> must have the element size (see <see cref="ToArray{T}"/>).
    /// </summary>
    public bool TryGetSpan<T>(out ReadOnlySpan<T> span) where T : unmanaged
    {
        CheckElementType<T>();
        span = default;
        if (!IsContiguous || IsBigEndian || ByteSize > int.MaxValue) return false;
        if (!Storage.TryGetSpan(StorageOffset * DType.ItemSize(), (int)ByteSize, out var bytes)) return false;
        if (DType == DType.Bool && !BoolBytes.AreCanonical(bytes)) return false; // stored 2..255: a copy holds 1 (BoolBytes)
        span = MemoryMarshal.Cast<byte, T>(bytes);
        return true;
    }

    /// <summary>
    /// The values in row-major order as <typeparamref name="T"/>. <typeparamref name="T"/> is the element's own type
    /// (float for float32, <see cref="Half"/> for float16, long for int64, bool for bool…) or, for types .NET has no name for
    /// (bfloat16, float8, quantized), an integer of the same size holding the raw bits. Use <see cref="ToFloat32"/> to convert.
    /// </summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>();
        EnsureMaterializable();
        // Not zeroed first: CopyBytesTo writes every byte (measured ~15% faster on a 480 MB read).
        var result = GC.AllocateUninitializedArray<T>(checked((int)ElementCount));
        CopyBytesTo(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The values as float32 for every real numeric dtype; quantized values are dequantized.</summary>
    public float[] ToFloat32()
    {
        EnsureMaterializable();
        var result = new float[ElementCount];
        ElementConverter.ToFloat32(this, result);
        return result;
    }

    /// <summary>The values as float64 for every real numeric dtype (exact for all but int64/uint64 beyond 2^53).</summary>
    public double[] ToFloat64()
    {
        EnsureMaterializable();
        var result = new double[ElementCount];
        ElementConverter.ToFloat64(this, result);
        return result;
    }

    /// <summary>The raw values in row-major order as little-endian bytes (a contiguous copy of a strided view; bools as 0 and 1).</summary>
    public byte[] ReadBytes()
    {
        EnsureMaterializable();
        var result = new byte[ByteSize];
        CopyBytesTo(result);
        return result;
    }

    /// <summary>Copies the raw values in row-major order, little-endian, into <paramref name="destination"/> (bools as 0 and 1: <see cref="BoolBytes"/>).</summary>
    public void CopyBytesTo(Span<byte> destination)
    {
        int item = DType.ItemSize();
        if (destination.Length != ByteSize) throw new ArgumentException($"destination has {destination.Length} bytes, tensor has {ByteSize}");
        if (ElementCount == 0) return;
        long start = StorageOffset * item;
        if (IsContiguous)
        {
            Storage.Read(start, destination);
        }
        else
        {
            long extent = RequiredStorageBytes(Shape, Strides, StorageOffset, item) - start;
            if (extent > int.MaxValue) throw new NotSupportedException($"strided view '{Name}' spans more than 2 GB of storage");
            ReadOnlySpan<byte> source;
            if (!Storage.TryGetSpan(start, (int)extent, out source))
            {
                var buffer = new byte[extent];
                Storage.Read(start, buffer);
                source = buffer;
            }
            Gather(source, destination, item);
        }
        if (IsBigEndian) SwapBytes(destination, DType.IsComplex() ? item / 2 : item); // complex: each component swapped
        if (DType == DType.Bool) BoolBytes.Canonicalize(destination);
    }

    // Walks the view's indices in row-major order, copying runs along the last dimension when it is unit-stride.
    private void Gather(ReadOnlySpan<byte> source, Span<byte> destination, int item)
    {
        int rank = Shape.Rank;
        var index = new long[rank];
        long inner = Shape[rank - 1];
        long innerStride = Strides[rank - 1];
        int runBytes = (int)(inner * item);
        int written = 0;
        while (true)
        {
            long offset = 0;
            for (int d = 0; d < rank - 1; d++) offset += index[d] * Strides[d];
            if (innerStride == 1)
            {
                source.Slice((int)(offset * item), runBytes).CopyTo(destination.Slice(written, runBytes));
                written += runBytes;
            }
            else
            {
                for (long j = 0; j < inner; j++)
                {
                    source.Slice((int)((offset + j * innerStride) * item), item).CopyTo(destination.Slice(written, item));
                    written += item;
                }
            }
            int k = rank - 2;
            while (k >= 0)
            {
                if (++index[k] < Shape[k]) break;
                index[k] = 0;
                k--;
            }
            if (k < 0) break;
        }
    }

    private static void SwapBytes(Span<byte> data, int item)
    {
        switch (item)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(data), MemoryMarshal.Cast<byte, ushort>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(data), MemoryMarshal.Cast<byte, uint>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(data), MemoryMarshal.Cast<byte, ulong>(data)); break;
        }
    }

    // A tensor may be larger than one .NET array holds (an HDF5 dataset over 2 GiB), and a view may describe far more
    // elements than its storage holds (torch's expand() saves stride-0 views), so its logical size is checked before
    // anything is allocated for it. Such a tensor is still read in parts: slices, and the chunked streams of TensorChunks.
    private void EnsureMaterializable()
    {
        int item = DType.ItemSize();
        long bytes = ElementCount > long.MaxValue / Math.Max(8, item) ? long.MaxValue : ElementCount * Math.Max(8, item);
        if (bytes <= Array.MaxLength) return;
        long logical = ElementCount > long.MaxValue / item ? long.MaxValue : ElementCount * item;
        bool broadcast = RequiredStorageBytes(Shape, Strides, StorageOffset, item) < logical; // elements share storage
        throw new NotSupportedException(
            $"tensor '{Name}' has {ElementCount} elements, too many to hold in one array{(broadcast ? " (a broadcast view of a smaller storage)" : "")}; " +
            "read it in slices, e.g. Slice(\"[0:1000]\"), or stream it with TensorChunks.ForEach (the CLI's stats, hist and convert stream it)");
    }

    private void CheckElementType<T>() where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        int item = DType.ItemSize();
        var natural = ElementConverter.NaturalType(DType);
        // Raw integer bits are offered only for types .NET has no name for (bfloat16, float8, complex64 as ulong),
        // so a float32 tensor read as int fails instead of silently returning IEEE bit patterns.
        bool ok = size == item && (typeof(T) == natural || (natural is null && ElementConverter.IsRawType(typeof(T))));
        if (!ok)
            throw new InvalidOperationException(
                $"tensor '{Name}' is {DType.Name()} ({item} bytes per element); {typeof(T).Name} does not match. " +
                $"Use ToArray<{ElementConverter.NaturalType(DType)?.Name ?? "raw integer"}>() or ToFloat32().");
    }

    // --- views -------------------------------------------------------------------------------------------

    /// <summary>A numpy-style index of this tensor: <c>[0,0,0,:]</c>, <c>[:, 1:4]</c>, <c>[-1]</c>, <c>[::2]</c>, <c>[..., 0]</c>.</summary>
    public TensorEntry Slice(string index) => Indexing.Apply(this, IndexExpression.Parse(index));

    /// <summary>The same values with another shape (one dimension may be -1). A copy is made only when the view is not contiguous.</summary>
    public TensorEntry Reshape(params long[] shape) => Indexing.Reshape(this, shape);

    /// <summary>Swaps two dimensions (a 2-D tensor's transpose by default), sharing the storage.</summary>
    public TensorEntry Transpose(int dim0 = 0, int dim1 = 1) => Indexing.Transpose(this, dim0, dim1);

    /// <summary>A view with new geometry over the same storage.</summary>
    internal TensorEntry WithView(string name, Shape shape, long[] strides, long storageOffset, QuantizationInfo? quantization) =>
        new(name, DType, shape, Storage, storageOffset, strides, Role, IsBigEndian, quantization);

    /// <summary>A copy of this entry under another name or role, sharing the storage.</summary>
    public TensorEntry With(string? name = null, TensorRole? role = null) =>
        new(name ?? Name, DType, Shape, Storage, StorageOffset, [.. Strides], role ?? Role, IsBigEndian, Quantization);

    /// <summary><c>fc1.weight float32[10, 5]</c>.</summary>
    public override string ToString() => $"{Name} {DType.Name()}{Shape}";
}
