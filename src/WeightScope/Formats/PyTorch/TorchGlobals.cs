using System.Numerics;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// The torch part of the allow-list (compare <c>torch/_weights_only_unpickler.py</c>'s <c>_get_allowed_globals</c>):
/// the <c>torch._utils._rebuild_*</c> functions as <c>torch/_tensor.py</c>'s <c>__reduce_ex__</c> writes them, storage
/// classes, dtypes, qschemes, <c>torch.Size</c>, <c>torch.device</c>, <c>nn.Parameter</c> and TorchScript's
/// <c>torch.jit._pickle</c> helpers. Each is interpreted in C# into a <see cref="TorchTensor"/> or a plain value.
/// </summary>
internal static class TorchGlobals
{
    // Every module that has held the rebuild helpers ('torch.tensor' is mapped to 'torch._tensor' by torch.load itself).
    private static readonly string[] TensorModules = ["torch._tensor", "torch.tensor"];

    private static readonly string[] QSchemes =
        ["per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric", "per_channel_affine_float_qparams"];

    private static readonly string[] Layouts = ["strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged"];

    // dtypes torch has and WeightScope does not read; they still resolve (to a dtype without a DType) so a file that only
    // mentions one opens, and a tensor of one is reported by name.
    private static readonly string[] OtherDTypes =
        ["complex32", "chalf", "quint4x2", "quint2x4", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
         "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7",
         "int1", "int2", "int3", "int4", "int5", "int6", "int7"];

    /// <summary>A resolver with the standard-library, NumPy and torch entries.</summary>
    public static PickleResolver CreateResolver()
    {
        var r = BuiltinGlobals.AddTo(new PickleResolver());
        r.Callable("torch._utils", "_rebuild_tensor", c => RebuildTensor(c, requiresGrad: -1, dtype: -1))
         .Callable("torch._utils", "_rebuild_tensor_v2", c => RebuildTensor(c, requiresGrad: 4, dtype: -1))
         .Callable("torch._utils", "_rebuild_tensor_v3", c => RebuildTensor(c, requiresGrad: 4, dtype: 6))
         .Callable("torch._utils", "_rebuild_parameter", RebuildParameter)
         .Callable("torch._utils", "_rebuild_parameter_with_state", RebuildParameter)
         .Callable("torch._utils", "_rebuild_qtensor", RebuildQTensor)
         .Callable("torch._utils", "_rebuild_sparse_tensor", c => Unsupported(c, "sparse COO tensors (torch._utils._rebuild_sparse_tensor)"))
         .Callable("torch._utils", "_rebuild_sparse_csr_tensor", c => Unsupported(c, "sparse compressed tensors (torch._utils._rebuild_sparse_csr_tensor)"))
         .Callable("torch._utils", "_rebuild_nested_tensor", c => Unsupported(c, "nested tensors (torch._utils._rebuild_nested_tensor)"))
         .Callable("torch._utils", "_rebuild_device_tensor_from_numpy", c => Unsupported(c, "XLA/ORT/HPU tensors saved as NumPy arrays (torch._utils._rebuild_device_tensor_from_numpy)"))
         .Callable("torch._utils", "_rebuild_xla_tensor", c => Unsupported(c, "XLA tensors (torch._utils._rebuild_xla_tensor)"))
         .Callable("torch._utils", "_rebuild_device_tensor_from_cpu_tensor", c => Unsupported(c, "device tensors saved through a CPU copy (torch._utils._rebuild_device_tensor_from_cpu_tensor)"))
         .Callable("torch._utils", "_rebuild_wrapper_subclass", c => Unsupported(c, "tensor wrapper subclasses without storage (torch._utils._rebuild_wrapper_subclass)"))
         .Callable("torch._utils", "_rebuild_meta_tensor_no_storage", c => Unsupported(c, "meta-device tensors, which carry no data (torch._utils._rebuild_meta_tensor_no_storage)"))
         .Callable("torch.nn.parameter", "Parameter", NewParameter)
         .Callable("torch", "Size", c => c.OptionalArg(0) switch
         {
             null => PyTuple.Empty,
             PyTuple t => t,
             PyList l => new PyTuple([.. l.Items]),
             var other => throw c.Errors.Invalid($"torch.Size() needs a tuple of ints, found {PickleErrors.Describe(other)}", c.Offset),
         })
         .Callable("torch", "device", Device)
         .Callable("torch.serialization", "_get_layout", c => new TorchLayout(c.Arg<string>(0, "name").Replace("torch.", "", StringComparison.Ordinal)))
         .Inert("torch", "Tensor")
         .Inert("torch._tensor", "Tensor");
        foreach (var m in TensorModules)
        {
            r.Callable(m, "_rebuild_from_type_v2", c => FromType(c, c.Arg(0, "func"), c.Arg(1, "new_type"), c.Arg(2, "args"), c.OptionalArg(3)))
             .Callable(m, "_rebuild_from_type", c => FromType(c, c.Arg(0, "func"), c.Arg(1, "type"), c.Arg(2, "args"), c.OptionalArg(3)));
        }
        // TorchScript's pickler (torch/csrc/jit/serialization/pickler.cpp) tags typed lists and tensors with these.
        r.Callable("torch.jit._pickle", "restore_type_tag", c => c.Arg(0, "value"))
         .Callable("torch.jit._pickle", "build_tensor_from_id", c => new TorchTensorId(c.Arg<long>(0, "id"), c.Offset));
        foreach (var list in new[] { "build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "build_genericlist" })
            r.Callable("torch.jit._pickle", list, c => c.Arg(0, "data"));
        foreach (var q in QSchemes) r.Constant("torch", q, new TorchQScheme(q));
        foreach (var l in Layouts) r.Constant("torch", l, new TorchLayout(l));
        foreach (var d in OtherDTypes) r.Constant("torch", d, new TorchDTypeValue(d, null));
        r.Rule(StorageRule).Rule(DTypeRule);
        return r;
    }

    // torch.load's find_class: any name containing 'Storage' that names a known storage type is that type, whatever the module.
    private static object? StorageRule(string module, string name) =>
        module.StartsWith("torch", StringComparison.Ordinal) && name.Contains("Storage", StringComparison.Ordinal) ? TorchStorageType.FromName(name) : null;

    // A dtype pickles as the global torch.<name> (torch.dtype.__reduce__ returns its name).
    private static object? DTypeRule(string module, string name) =>
        module == "torch" && DTypes.TryParse(name, out var t) && t.Name() == name ? new TorchDTypeValue(name, t) : null;

    private static object Unsupported(PickleCall c, string feature) => new TorchUnsupportedTensor(feature, c.Offset);

    // _rebuild_tensor(storage, storage_offset, size, stride)
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None)
    // _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None)
    private static object RebuildTensor(PickleCall c, int requiresGrad, int dtype)
    {
        var storage = StorageArg(c);
        DType type = dtype >= 0 ? DTypeArg(c, dtype) : StorageDType(c, storage);
        return View(c, storage, type, requiresGrad >= 0 && c.OptionalArg(requiresGrad) is true, null);
    }

    // The view every _rebuild_* function describes: storage, storage_offset, size and stride in arguments 0–3.
    private static TorchTensor View(PickleCall c, TorchStorageRef storage, DType type, bool requiresGrad, TorchQuantizerParams? quantizer)
    {
        var (offset, size, stride) = ViewArgs(c, storage);
        return new TorchTensor
        {
            Storage = storage,
            DType = type,
            StorageOffset = offset,
            Size = size,
            Stride = stride,
            Offset = c.Offset,
            Quantizer = quantizer,
            RequiresGrad = requiresGrad,
        };
    }

    // _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks)
    private static object RebuildQTensor(PickleCall c)
    {
        var storage = StorageArg(c);
        var type = StorageDType(c, storage);
        if (!type.IsQuantized())
            throw c.Errors.Invalid($"_rebuild_qtensor given a {storage.Type.Name}; a quantized tensor needs a QInt8/QUInt8/QInt32 storage", c.Offset);
        var p = c.Arg<PyTuple>(4, "quantizer_params");
        if (p.Count == 0 || p[0] is not TorchQScheme scheme)
            throw c.Errors.Invalid($"quantizer_params should start with a torch qscheme, found {PickleErrors.Describe(p.Count > 0 ? p[0] : null)}", c.Offset);
        TorchQuantizerParams q = scheme.Name switch
        {
            "per_tensor_affine" when p.Count == 3 => new(scheme.Name, Number(c, p[1], "scale"), Integer(c, p[2], "zero_point"), null, null, -1),
            "per_channel_affine" or "per_channel_affine_float_qparams" when p.Count == 4 =>
                new(scheme.Name, 0, 0, p[1], p[2], (int)Integer(c, p[3], "axis")),
            _ => throw c.Errors.Unsupported($"quantized tensors with qscheme {scheme.Name} and {p.Count} quantizer parameters", c.Offset),
        };
        return View(c, storage, type, c.OptionalArg(5) is true, q);
    }

    // _rebuild_parameter(data, requires_grad, backward_hooks); _rebuild_parameter_with_state(..., state)
    private static object RebuildParameter(PickleCall c)
    {
        switch (c.Arg(0, "data"))
        {
            case TorchTensor t:
                var p = t.AsParameter(c.OptionalArg(1) is not false);
                if (c.OptionalArg(3) is { } state) p.Build(state);
                return p;
            case TorchUnsupportedTensor u: return u;
            case var other: throw c.Errors.Invalid($"{c.Global.FullName} expects a tensor but got {PickleErrors.Describe(other)}", c.Offset);
        }
    }

    // Parameter(data, requires_grad=True) through NEWOBJ/REDUCE (older pickles, TorchScript-free code paths).
    private static object NewParameter(PickleCall c) => c.OptionalArg(0) switch
    {
        TorchTensor t => t.AsParameter(c.OptionalArg(1) is not false),
        TorchUnsupportedTensor u => u,
        _ => c.Stub(),
    };

    // _rebuild_from_type_v2(func, new_type, args, state): a tensor subclass rebuilt by func(*args), then given state.
    private static object? FromType(PickleCall c, object? func, object? newType, object? args, object? state)
    {
        if (func is not PyGlobal { Known: { } known } g || args is not PyTuple a)
            return c.Stub();
        var result = known(new PickleCall(g, a, null, c.Opcode, c.Offset, c.Errors));
        if (result is TorchTensor t)
        {
            string type = (newType as PyGlobal)?.FullName ?? PickleErrors.Describe(newType);
            if (type is "torch.nn.parameter.Parameter") t.IsParameter = true;
            else if (type is not ("torch.Tensor" or "torch._tensor.Tensor")) t.SubclassType = type;
            if (state is PyDict { Count: > 0 } or PyTuple { Count: > 0 }) t.Build(state);
        }
        return result;
    }

    private static object Device(PickleCall c)
    {
        var type = c.Arg<string>(0, "type");
        long? index = c.OptionalArg(1) as long?;
        int colon = type.IndexOf(':');
        if (colon >= 0 && long.TryParse(type.AsSpan(colon + 1), out long i))
        {
            index = i;
            type = type[..colon];
        }
        return new TorchDevice(type, index);
    }

    private static TorchStorageRef StorageArg(PickleCall c) => c.Arg(0, "storage") switch
    {
        TorchStorageRef s => s,
        var other => throw c.Errors.Invalid($"{c.Global.FullName} expects a storage (a persistent id) but got {PickleErrors.Describe(other)}", c.Offset),
    };

    private static DType StorageDType(PickleCall c, TorchStorageRef s) =>
        s.Type.DType ?? throw c.Errors.Unsupported(
            $"tensors of dtype {s.Type.Name.Replace("Storage", "", StringComparison.Ordinal).ToLowerInvariant()} (storage type {s.Type.Name})", c.Offset);

    private static DType DTypeArg(PickleCall c, int index) => c.Arg(index, "dtype") switch
    {
        TorchDTypeValue { DType: { } t } => t,
        TorchDTypeValue d => throw c.Errors.Unsupported($"tensors of dtype torch.{d.Name}", c.Offset),
        var other => throw c.Errors.Invalid($"{c.Global.FullName} argument 'dtype' should be a torch dtype but is {PickleErrors.Describe(other)}", c.Offset),
    };

    private static (long Offset, long[] Size, long[] Stride) ViewArgs(PickleCall c, TorchStorageRef storage)
    {
        long offset = Integer(c, c.Arg(1, "storage_offset"), "storage_offset");
        var size = Dims(c, c.Arg(2, "size"), "size");
        var stride = Dims(c, c.Arg(3, "stride"), "stride");
        if (offset < 0) throw c.Errors.Invalid($"negative storage_offset {offset}", c.Offset);
        if (size.Length != stride.Length)
            throw c.Errors.Invalid($"tensor has {size.Length} dimensions but {stride.Length} strides", c.Offset);
        return (offset, size, stride);
    }

    private static long[] Dims(PickleCall c, object? v, string what)
    {
        if (v is not IReadOnlyList<object?> items || v is PyDict)
            throw c.Errors.Invalid($"tensor {what} should be a tuple of ints but is {PickleErrors.Describe(v)}", c.Offset);
        var dims = new long[items.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = Integer(c, items[i], what);
            if (dims[i] < 0) throw c.Errors.Invalid($"tensor {what}[{i}] is negative ({dims[i]})", c.Offset);
        }
        return dims;
    }

    internal static long Integer(PickleCall c, object? v, string what) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw c.Errors.Invalid($"{what} should be an int that fits 64 bits but is {PickleErrors.Describe(v)}", c.Offset),
    };

    private static double Number(PickleCall c, object? v, string what) => v switch
    {
        double d => d,
        long l => l,
        BigInteger b => (double)b,
        _ => throw c.Errors.Invalid($"{what} should be a number but is {PickleErrors.Describe(v)}", c.Offset),
    };
}
