using System.Globalization;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>
/// Ports of every <c>extra_repr</c> in <c>torch.nn</c> (torch 1.13), keyed by class name, plus the torchvision modules
/// that override <c>__repr__</c> itself. Each entry names the class whose method it ports; subclasses that inherit the
/// method (BatchNorm2d from <c>_NormBase</c>, torchvision's <c>LayerNorm2d</c> from <c>LayerNorm</c>) share the entry.
/// </summary>
internal static class ExtraRepr
{
    private static readonly Dictionary<string, Func<ModuleAttributes, string>> Table = Build();
    private static readonly Dictionary<string, Func<ModuleAttributes, string>> ReprTable = BuildReprOverrides();

    /// <summary>
    /// The module's <c>extra_repr()</c>: empty for classes without one (containers, <c>Sigmoid</c>, custom modules).
    /// </summary>
    /// <exception cref="MissingAttributeException">The file lacks an attribute the method reads.</exception>
    public static string Of(ModuleAttributes m) =>
        Table.TryGetValue(m.TypeName, out var f) ? f(m) : "";

    /// <summary>A whole <c>__repr__</c> for classes that override it (torchvision ops), or null.</summary>
    /// <exception cref="MissingAttributeException">The file lacks an attribute the method reads.</exception>
    public static string? ReprOverride(ModuleAttributes m) =>
        ReprTable.TryGetValue(m.TypeName, out var f) ? f(m) : null;

    private static Dictionary<string, Func<ModuleAttributes, string>> Build()
    {
        var t = new Dictionary<string, Func<ModuleAttributes, string>>(StringComparer.Ordinal);
        void Add(Func<ModuleAttributes, string> f, params string[] names)
        {
            foreach (var n in names) t.Add(n, f);
        }

        // linear.py
        Add(m => $"in_features={m.G("in_features")}, out_features={m.G("out_features")}, bias={Bool(m.Parameter("bias") is not null)}",
            "Linear", "LazyLinear", "NonDynamicallyQuantizableLinear");
        Add(m => $"in1_features={m.G("in1_features")}, in2_features={m.G("in2_features")}, out_features={m.G("out_features")}, " +
                 $"bias={Bool(m.Parameter("bias") is not null)}", "Bilinear");
        // conv.py, _ConvNd
        Add(ConvNd, "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
            "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d");
        // batchnorm.py, _NormBase (instancenorm.py's classes inherit it)
        Add(m => $"{m.S("num_features")}, eps={m.S("eps")}, momentum={m.S("momentum")}, affine={m.S("affine")}, " +
                 $"track_running_stats={m.S("track_running_stats")}",
            "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
            "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d");
        // normalization.py
        Add(m => $"{m.S("size")}, alpha={m.S("alpha")}, beta={m.S("beta")}, k={m.S("k")}", "LocalResponseNorm", "CrossMapLRN2d");
        Add(m => $"{m.S("normalized_shape")}, eps={m.S("eps")}, elementwise_affine={m.S("elementwise_affine")}",
            "LayerNorm", "LayerNorm2d"); // LayerNorm2d: torchvision.models.convnext, an nn.LayerNorm subclass
        Add(m => $"{m.S("num_groups")}, {m.S("num_channels")}, eps={m.S("eps")}, affine={m.S("affine")}", "GroupNorm");
        // dropout.py, _DropoutNd
        Add(m => $"p={m.G("p")}, inplace={m.G("inplace")}",
            "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout");
        // activation.py
        Add(m => $"threshold={m.G("threshold")}, value={m.G("value")}{Inplace(m, ", ")}", "Threshold");
        Add(m => Inplace(m, ""), "ReLU", "ReLU6", "SiLU", "Mish", "SELU");
        Add(m => $"lower={m.G("lower")}, upper={m.G("upper")}{Inplace(m, ", ")}", "RReLU");
        Add(m => $"min_val={m.G("min_val")}, max_val={m.G("max_val")}{Inplace(m, ", ")}", "Hardtanh");
        Add(m => $"alpha={m.G("alpha")}{Inplace(m, ", ")}", "ELU", "CELU");
        Add(m => $"dim={m.G("dim")}", "GLU", "Softmin", "Softmax", "LogSoftmax");
        Add(m => $"approximate={PythonValue.Repr(m.Get("approximate"))}", "GELU");
        Add(m => m.G("lambd"), "Hardshrink", "Softshrink");
        Add(m => $"negative_slope={m.G("negative_slope")}{Inplace(m, ", ")}", "LeakyReLU");
        Add(m => $"beta={m.G("beta")}, threshold={m.G("threshold")}", "Softplus");
        Add(m => $"num_parameters={m.G("num_parameters")}", "PReLU");
        // channelshuffle.py, pixelshuffle.py
        Add(m => $"groups={m.G("groups")}", "ChannelShuffle");
        Add(m => $"upscale_factor={m.G("upscale_factor")}", "PixelShuffle");
        Add(m => $"downscale_factor={m.G("downscale_factor")}", "PixelUnshuffle");
        // flatten.py, fold.py
        Add(m => $"start_dim={m.G("start_dim")}, end_dim={m.G("end_dim")}", "Flatten");
        Add(m => $"dim={m.G("dim")}, unflattened_size={m.G("unflattened_size")}", "Unflatten");
        Add(m => $"output_size={m.S("output_size")}, kernel_size={m.S("kernel_size")}, dilation={m.S("dilation")}, " +
                 $"padding={m.S("padding")}, stride={m.S("stride")}", "Fold");
        Add(m => $"kernel_size={m.S("kernel_size")}, dilation={m.S("dilation")}, padding={m.S("padding")}, stride={m.S("stride")}", "Unfold");
        // padding.py
        Add(m => $"padding={m.G("padding")}, value={m.G("value")}", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d");
        Add(m => m.G("padding"), "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
            "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad2d");
        // pooling.py
        Add(m => $"kernel_size={m.S("kernel_size")}, stride={m.S("stride")}, padding={m.S("padding")}, dilation={m.S("dilation")}, " +
                 $"ceil_mode={m.S("ceil_mode")}", "MaxPool1d", "MaxPool2d", "MaxPool3d");
        Add(m => $"kernel_size={m.G("kernel_size")}, stride={m.G("stride")}, padding={m.G("padding")}",
            "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d");
        Add(m => $"norm_type={m.S("norm_type")}, kernel_size={m.S("kernel_size")}, stride={m.S("stride")}, ceil_mode={m.S("ceil_mode")}",
            "LPPool1d", "LPPool2d");
        Add(m => $"output_size={m.G("output_size")}", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
            "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d");
        // upsampling.py, Upsample (UpsamplingNearest2d and UpsamplingBilinear2d inherit it)
        Add(Upsample, "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d");
        // sparse.py
        Add(Embedding, "Embedding");
        Add(EmbeddingBag, "EmbeddingBag");
        // rnn.py
        Add(RnnBase, "RNN", "LSTM", "GRU", "RNNBase");
        Add(RnnCellBase, "RNNCell", "LSTMCell", "GRUCell", "RNNCellBase");
        // container.py
        Add(ParameterList, "ParameterList");
        Add(ParameterDict, "ParameterDict");
        return t;
    }

    // torchvision modules whose __repr__ replaces Module.__repr__ (so they print no children).
    private static Dictionary<string, Func<ModuleAttributes, string>> BuildReprOverrides() => new(StringComparer.Ordinal)
    {
        // torchvision/ops/misc.py, FrozenBatchNorm2d.__repr__: weight is a buffer.
        ["FrozenBatchNorm2d"] = m => $"{m.TypeName}({FirstDimension(m, "weight")}, eps={m.G("eps")})",
        // torchvision/ops/stochastic_depth.py
        ["StochasticDepth"] = m => $"{m.TypeName}(p={m.G("p")}, mode={m.G("mode")})",
        // torchvision/ops/drop_block.py
        ["DropBlock2d"] = DropBlock,
        ["DropBlock3d"] = DropBlock,
        // torchvision/ops/deform_conv.py
        ["DeformConv2d"] = m =>
            $"{m.TypeName}({m.G("in_channels")}, {m.G("out_channels")}, kernel_size={m.G("kernel_size")}, stride={m.G("stride")}" +
            (!PythonValue.Equal(m.Get("padding"), new object?[] { 0L, 0L }) ? $", padding={m.G("padding")}" : "") +
            (!PythonValue.Equal(m.Get("dilation"), new object?[] { 1L, 1L }) ? $", dilation={m.G("dilation")}" : "") +
            (!PythonValue.Equal(m.Get("groups"), 1L) ? $", groups={m.G("groups")}" : "") +
            (m.Parameter("bias") is null ? ", bias=False" : "") + ")",
        // torchvision/ops/roi_align.py, ps_roi_align.py, roi_pool.py, ps_roi_pool.py, poolers.py
        ["RoIAlign"] = m => $"{m.TypeName}(output_size={m.G("output_size")}, spatial_scale={m.G("spatial_scale")}, " +
                            $"sampling_ratio={m.G("sampling_ratio")}, aligned={m.G("aligned")})",
        ["PSRoIAlign"] = m => $"{m.TypeName}(output_size={m.G("output_size")}, spatial_scale={m.G("spatial_scale")}, " +
                              $"sampling_ratio={m.G("sampling_ratio")})",
        ["RoIPool"] = m => $"{m.TypeName}(output_size={m.G("output_size")}, spatial_scale={m.G("spatial_scale")})",
        ["PSRoIPool"] = m => $"{m.TypeName}(output_size={m.G("output_size")}, spatial_scale={m.G("spatial_scale")})",
        ["MultiScaleRoIAlign"] = m => $"{m.TypeName}(featmap_names={m.G("featmap_names")}, output_size={m.G("output_size")}, " +
                                      $"sampling_ratio={m.G("sampling_ratio")})",
    };

    private static string DropBlock(ModuleAttributes m) =>
        $"{m.TypeName}(p={m.G("p")}, block_size={m.G("block_size")}, inplace={m.G("inplace")})";

    // _ConvNd.extra_repr
    private static string ConvNd(ModuleAttributes m)
    {
        var s = $"{m.S("in_channels")}, {m.S("out_channels")}, kernel_size={m.S("kernel_size")}, stride={m.S("stride")}";
        if (!AllEqual(m.Get("padding"), 0)) s += $", padding={m.S("padding")}";
        if (!AllEqual(m.Get("dilation"), 1)) s += $", dilation={m.S("dilation")}";
        if (!AllEqual(m.Get("output_padding"), 0)) s += $", output_padding={m.S("output_padding")}";
        if (!PythonValue.Equal(m.Get("groups"), 1L)) s += $", groups={m.S("groups")}";
        if (m.Parameter("bias") is null) s += ", bias=False";
        if (!PythonValue.Equal(m.Get("padding_mode"), "zeros")) s += $", padding_mode={m.S("padding_mode")}";
        return s;
    }

    // Upsample.extra_repr
    private static string Upsample(ModuleAttributes m)
    {
        var scale = m.Get("scale_factor");
        var info = scale is not null ? "scale_factor=" + PythonValue.Str(scale) : "size=" + m.G("size");
        return info + ", mode=" + m.G("mode");
    }

    // Embedding.extra_repr
    private static string Embedding(ModuleAttributes m)
    {
        var s = $"{m.S("num_embeddings")}, {m.S("embedding_dim")}";
        if (m.Get("padding_idx") is not null) s += $", padding_idx={m.S("padding_idx")}";
        if (m.Get("max_norm") is not null) s += $", max_norm={m.S("max_norm")}";
        if (!PythonValue.Equal(m.Get("norm_type"), 2L)) s += $", norm_type={m.S("norm_type")}";
        if (!IsFalse(m.Get("scale_grad_by_freq"))) s += $", scale_grad_by_freq={m.S("scale_grad_by_freq")}";
        if (!IsFalse(m.Get("sparse"))) s += ", sparse=True";
        return s;
    }

    // EmbeddingBag.extra_repr
    private static string EmbeddingBag(ModuleAttributes m)
    {
        var s = $"{m.S("num_embeddings")}, {m.S("embedding_dim")}";
        if (m.Get("max_norm") is not null) s += $", max_norm={m.S("max_norm")}";
        if (!PythonValue.Equal(m.Get("norm_type"), 2L)) s += $", norm_type={m.S("norm_type")}";
        if (!IsFalse(m.Get("scale_grad_by_freq"))) s += $", scale_grad_by_freq={m.S("scale_grad_by_freq")}";
        s += $", mode={m.S("mode")}";
        if (m.Get("padding_idx") is not null) s += $", padding_idx={m.S("padding_idx")}";
        return s;
    }

    // RNNBase.extra_repr
    private static string RnnBase(ModuleAttributes m)
    {
        var s = $"{m.S("input_size")}, {m.S("hidden_size")}";
        // proj_size arrived in torch 1.8; older pickles lack it, and then it is 0.
        if (m.InDict("proj_size") && !PythonValue.Equal(m.Get("proj_size"), 0L)) s += $", proj_size={m.S("proj_size")}";
        if (!PythonValue.Equal(m.Get("num_layers"), 1L)) s += $", num_layers={m.S("num_layers")}";
        if (!IsTrue(m.Get("bias"))) s += $", bias={m.S("bias")}";
        if (!IsFalse(m.Get("batch_first"))) s += $", batch_first={m.S("batch_first")}";
        if (!PythonValue.Equal(m.Get("dropout"), 0L)) s += $", dropout={m.S("dropout")}";
        if (!IsFalse(m.Get("bidirectional"))) s += $", bidirectional={m.S("bidirectional")}";
        return s;
    }

    // RNNCellBase.extra_repr
    private static string RnnCellBase(ModuleAttributes m)
    {
        var s = $"{m.S("input_size")}, {m.S("hidden_size")}";
        if (m.InDict("bias") && !IsTrue(m.Get("bias"))) s += $", bias={m.S("bias")}";
        if (m.InDict("nonlinearity") && !PythonValue.Equal(m.Get("nonlinearity"), "tanh")) s += $", nonlinearity={m.S("nonlinearity")}";
        return s;
    }

    // ParameterList.extra_repr: one line per item, "  (k): Parameter containing: [torch.float32 of size 3x4]".
    private static string ParameterList(ModuleAttributes m)
    {
        var node = m.Node;
        int count = 0;
        foreach (var key in node.Parameters.Keys.Concat(node.Buffers.Keys).Concat(node.Attributes.Keys))
            if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int k)) count = Math.Max(count, k + 1);
        var lines = new List<string>();
        for (int k = 0; k < count; k++)
        {
            var key = k.ToString(CultureInfo.InvariantCulture);
            var p = m.Get(key);
            lines.Add(p is TensorEntry t
                ? $"  ({key}): {(node.Parameters.ContainsKey(key) ? "Parameter" : "Tensor")} containing: [torch.{t.DType.Name()} of size {SizeString(t)}]"
                : $"  ({key}): Object of type: {PythonValue.TypeName(p)}");
        }
        return string.Join("\n", lines);
    }

    // ParameterDict.extra_repr: like ParameterList but with torch.typename (torch.FloatTensor).
    private static string ParameterDict(ModuleAttributes m) => string.Join("\n", m.Node.Parameters
        .Where(kv => kv.Value is not null)
        .Select(kv => $"  ({kv.Key}): Parameter containing: [{TypeName(kv.Value!.DType)} of size {SizeString(kv.Value)}]"));

    // 'x'.join(str(size) for size in p.size())
    private static string SizeString(TensorEntry t) => string.Join("x", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    // torch.typename(tensor) for a CPU tensor: its legacy type name.
    private static string TypeName(DType d) => "torch." + d switch
    {
        DType.Float32 => "FloatTensor",
        DType.Float64 => "DoubleTensor",
        DType.Float16 => "HalfTensor",
        DType.BFloat16 => "BFloat16Tensor",
        DType.UInt8 => "ByteTensor",
        DType.Int8 => "CharTensor",
        DType.Int16 => "ShortTensor",
        DType.Int32 => "IntTensor",
        DType.Int64 => "LongTensor",
        DType.Bool => "BoolTensor",
        DType.Complex64 => "ComplexFloatTensor",
        DType.Complex128 => "ComplexDoubleTensor",
        DType.QInt8 => "QInt8Tensor",
        DType.QUInt8 => "QUInt8Tensor",
        DType.QInt32 => "QInt32Tensor",
        _ => d.Name(),
    };

    // self.<name>.shape[0]
    private static string FirstDimension(ModuleAttributes m, string name) => m.Get(name) is TensorEntry { Shape.Rank: > 0 } t
        ? t.Shape[0].ToString(CultureInfo.InvariantCulture)
        : throw new MissingAttributeException(m.Node, name + ".shape[0]");

    // `self.x != (k,) * len(self.x)`: true unless x is a tuple of k's (a string such as 'same' is never equal).
    private static bool AllEqual(object? value, long k) => value switch
    {
        object?[] tuple => tuple.All(v => PythonValue.Equal(v, k)),
        string or List<object?> => false,
        _ => PythonValue.Equal(value, k),
    };

    // `inplace_str = sep + 'inplace=True' if self.inplace else ''`
    private static string Inplace(ModuleAttributes m, string separator) =>
        PythonValue.Truthy(m.Get("inplace")) ? separator + "inplace=True" : "";

    private static bool IsTrue(object? v) => v is true;   // `x is True`

    private static bool IsFalse(object? v) => v is false; // `x is False`

    private static string Bool(bool b) => b ? "True" : "False";
}
