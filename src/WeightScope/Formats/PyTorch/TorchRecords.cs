using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

// What the allow-listed torch callables produce when the unpickler interprets them: plain records describing
// storages and tensors. Readers resolve storages to bytes; TorchObjectMapper turns tensors into TensorEntry views.

/// <summary>A storage class as pickled (<c>torch.FloatStorage</c>, <c>torch.UntypedStorage</c>): its element type and size.</summary>
/// <param name="Name">Class name, e.g. <c>FloatStorage</c>.</param>
/// <param name="DType">Element type, or null when WeightScope has no such dtype (<c>QUInt4x2Storage</c>).</param>
/// <param name="ItemSize">Bytes per element.</param>
internal sealed record TorchStorageType(string Name, DType? DType, int ItemSize)
{
    // torch/storage.py _dtype_to_storage_type_map, inverted; UntypedStorage is bytes (serialization.py: dtype = torch.uint8).
    private static readonly Dictionary<string, TorchStorageType> Known = new TorchStorageType[]
    {
        new("DoubleStorage", Tensors.DType.Float64, 8),
        new("FloatStorage", Tensors.DType.Float32, 4),
        new("HalfStorage", Tensors.DType.Float16, 2),
        new("LongStorage", Tensors.DType.Int64, 8),
        new("IntStorage", Tensors.DType.Int32, 4),
        new("ShortStorage", Tensors.DType.Int16, 2),
        new("CharStorage", Tensors.DType.Int8, 1),
        new("ByteStorage", Tensors.DType.UInt8, 1),
        new("BoolStorage", Tensors.DType.Bool, 1),
        new("BFloat16Storage", Tensors.DType.BFloat16, 2),
        new("ComplexDoubleStorage", Tensors.DType.Complex128, 16),
        new("ComplexFloatStorage", Tensors.DType.Complex64, 8),
        new("QInt8Storage", Tensors.DType.QInt8, 1),
        new("QInt32Storage", Tensors.DType.QInt32, 4),
        new("QUInt8Storage", Tensors.DType.QUInt8, 1),
        new("QUInt4x2Storage", null, 1),
        new("QUInt2x4Storage", null, 1),
        new("UntypedStorage", Tensors.DType.UInt8, 1),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The storage type of a class name, or null for a name torch does not know.</summary>
    public static TorchStorageType? FromName(string name) => Known.GetValueOrDefault(name);
}

/// <summary>A torch dtype constant (<c>torch.float32</c>, pickled as GLOBAL torch float32).</summary>
/// <param name="Name">torch's name.</param>
/// <param name="DType">The WeightScope dtype, or null when it has none (<c>complex32</c>, <c>quint4x2</c>…).</param>
internal sealed record TorchDTypeValue(string Name, DType? DType)
{
    /// <inheritdoc />
    public override string ToString() => $"torch.{Name}";
}

/// <summary>A quantization scheme constant (<c>torch.per_tensor_affine</c>).</summary>
internal sealed record TorchQScheme(string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"torch.{Name}";
}

/// <summary>A tensor layout constant (<c>torch.strided</c>, <c>torch.sparse_coo</c>).</summary>
internal sealed record TorchLayout(string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"torch.{Name}";
}

/// <summary>A <c>torch.device</c>.</summary>
internal sealed record TorchDevice(string Type, long? Index)
{
    /// <inheritdoc />
    public override string ToString() => Index is long i ? $"{Type}:{i}" : Type;
}

/// <summary>
/// A storage a persistent id names: one object per storage key, shared by every tensor that views it.
/// Legacy files may also name a view of a storage (<see cref="ViewOf"/>, an element offset into the root).
/// </summary>
internal sealed class TorchStorageRef(string key, TorchStorageType type, string location, long numel, long offset)
{
    /// <summary>The storage key (the archive member <c>data/&lt;key&gt;</c>, or the legacy key).</summary>
    public string Key { get; } = key;

    /// <summary>Storage class and element type.</summary>
    public TorchStorageType Type { get; } = type;

    /// <summary>Device the storage was saved from (<c>cpu</c>, <c>cuda:0</c>, <c>mps</c>); every storage is read as bytes.</summary>
    public string Location { get; } = location;

    /// <summary>Elements of <see cref="Type"/>.</summary>
    public long Numel { get; } = numel;

    /// <summary>Offset of the persistent id that named the storage first.</summary>
    public long Offset { get; } = offset;

    /// <summary>The bytes, once the reader has located them.</summary>
    public TensorStorage? Bytes { get; set; }

    /// <summary>For a legacy storage view: the root storage.</summary>
    public TorchStorageRef? ViewOf { get; init; }

    /// <summary>For a legacy storage view: its first element within the root.</summary>
    public long ViewOffset { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Type.Name}('{Key}', {Location}, {Numel})";
}

/// <summary>Quantizer parameters of a quantized tensor, as <c>_rebuild_qtensor</c> receives them.</summary>
/// <param name="Scheme">qscheme name (<c>per_tensor_affine</c>, <c>per_channel_affine</c>, <c>per_channel_affine_float_qparams</c>).</param>
/// <param name="Scale">Per-tensor scale.</param>
/// <param name="ZeroPoint">Per-tensor zero point.</param>
/// <param name="Scales">Per-channel scales: a <see cref="TorchTensor"/> or a list of numbers.</param>
/// <param name="ZeroPoints">Per-channel zero points: a <see cref="TorchTensor"/> or a list of numbers.</param>
/// <param name="Axis">Per-channel axis.</param>
internal sealed record TorchQuantizerParams(string Scheme, double Scale, long ZeroPoint, object? Scales, object? ZeroPoints, int Axis);

/// <summary>A tensor as <c>torch._utils._rebuild_*</c> would have built it: a view into a storage.</summary>
internal sealed class TorchTensor : IPickleBuildable
{
    /// <summary>The storage viewed.</summary>
    public required TorchStorageRef Storage { get; init; }

    /// <summary>Element type (from the storage class, or <c>_rebuild_tensor_v3</c>'s dtype argument).</summary>
    public required DType DType { get; init; }

    /// <summary>First element within the storage (elements).</summary>
    public required long StorageOffset { get; init; }

    /// <summary>Dimensions.</summary>
    public required long[] Size { get; init; }

    /// <summary>Strides (elements).</summary>
    public required long[] Stride { get; init; }

    /// <summary><c>requires_grad</c> as saved.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>True when wrapped by <c>_rebuild_parameter</c> (an <c>nn.Parameter</c>).</summary>
    public bool IsParameter { get; set; }

    /// <summary>Quantizer parameters for quantized tensors.</summary>
    public TorchQuantizerParams? Quantizer { get; init; }

    /// <summary>Tensor subclass name from <c>_rebuild_from_type_v2</c>, when not <c>torch.Tensor</c>.</summary>
    public string? SubclassType { get; set; }

    /// <summary>Python attributes set on the tensor (subclass state, parameter state), or null.</summary>
    public object? State { get; private set; }

    /// <summary>Offset of the rebuild call.</summary>
    public required long Offset { get; init; }

    /// <inheritdoc />
    public void Build(object? state) => State = PyObject.MergeState(State, state);

    /// <summary>A copy that is a parameter (the same storage and view).</summary>
    public TorchTensor AsParameter(bool requiresGrad) => new()
    {
        Storage = Storage,
        DType = DType,
        StorageOffset = StorageOffset,
        Size = Size,
        Stride = Stride,
        Quantizer = Quantizer,
        Offset = Offset,
        RequiresGrad = requiresGrad,
        IsParameter = true,
        SubclassType = SubclassType,
    };

    /// <inheritdoc />
    public override string ToString() => $"tensor {DType.Name()}[{string.Join(", ", Size)}]";
}

/// <summary>A tensor kind WeightScope does not read (sparse, nested, meta, device-specific); the mapper reports it by name.</summary>
internal sealed record TorchUnsupportedTensor(string Feature, long Offset);

/// <summary>A TorchScript <c>model.json</c>-era tensor reference: an index into the archive's tensor table.</summary>
internal sealed record TorchTensorId(long Id, long Offset);
