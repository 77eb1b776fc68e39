using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Modules;

/// <summary>
/// The numbers behind Keras's <c>model.summary()</c>: one row per layer (top-level module) with its parameter count and
/// whether it is trainable, and the Total / Trainable / Non-trainable (/ Optimizer) totals with their sizes in bytes.
/// Works for every format: layers are the root's children in the module tree, trainable-ness comes from tensor roles
/// (and a Keras layer config's <c>trainable</c> flag where the file has one).
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(string modelName, IReadOnlyList<SummaryRow> rows, WeightCount trainable, WeightCount nonTrainable,
        WeightCount optimizer, WeightCount other, WeightCount outsideModel, bool totalIncludesOptimizer)
    {
        OutsideModel = outsideModel;
        ModelName = modelName;
        Rows = rows;
        Trainable = trainable;
        NonTrainable = nonTrainable;
        Optimizer = optimizer;
        Other = other;
        TotalIncludesOptimizer = totalIncludesOptimizer;
    }

    /// <summary>The name of the row listing the weights the model owns directly (not through a layer).</summary>
    public const string OwnWeightsRowName = "(model's own weights)";

    /// <summary>The model's name as Keras prints it (<c>Model: "sequential"</c>): the config's <c>name</c>, else the root type, else "model".</summary>
    public string ModelName { get; }

    /// <summary>Layers in model order; nested layers follow their parent (with <see cref="SummaryRow.Depth"/> &gt; 0) when expanded.</summary>
    public IReadOnlyList<SummaryRow> Rows { get; }

    /// <summary>Trainable weights (role <see cref="TensorRole.Parameter"/>): Keras's <c>model.trainable_weights</c>.</summary>
    public WeightCount Trainable { get; }

    /// <summary>Non-trainable weights (role <see cref="TensorRole.Buffer"/>): <c>model.non_trainable_weights</c>, BatchNorm statistics, frozen layers.</summary>
    public WeightCount NonTrainable { get; }

    /// <summary>Optimizer state saved with the model (role <see cref="TensorRole.OptimizerState"/>).</summary>
    public WeightCount Optimizer { get; }

    /// <summary>
    /// Weights a layer owns whose role the file does not record (role <see cref="TensorRole.Other"/>): every tensor of
    /// a bare PyTorch state dict, the variables of a Keras layer class WeightScope does not know. Counted in
    /// <see cref="Total"/>, since they are the model's weights as far as anyone can tell, but in neither the trainable
    /// nor the non-trainable count.
    /// </summary>
    public WeightCount Other { get; }

    /// <summary>
    /// Role-less tensors no layer owns: tf-keras metric variables saved in a <c>.keras</c> archive, datasets no Keras
    /// weight list names; and the tensors outside <c>state_dict()</c> (<see cref="TensorRoles.IsOutsideStateDict"/>:
    /// TorchScript packed quantized weights, tensor attributes, constants). Not in <see cref="Total"/> (Keras does not
    /// count the former, <c>state_dict()</c> does not hold the latter).
    /// </summary>
    public WeightCount OutsideModel { get; }

    /// <summary>
    /// Whether <see cref="Total"/> includes the optimizer state: Keras 3 adds it (a loaded model with a built optimizer
    /// prints "Optimizer params" and counts them in "Total params"); Keras 2 and PyTorch do not.
    /// </summary>
    public bool TotalIncludesOptimizer { get; }

    /// <summary>"Total params": trainable + non-trainable + unknown role (+ optimizer for Keras 3 files).</summary>
    public WeightCount Total => Trainable + NonTrainable + Other + (TotalIncludesOptimizer ? Optimizer : default);

    /// <summary>Builds the summary of a model.</summary>
    /// <param name="model">The opened file.</param>
    /// <param name="expandNested">Also list the layers inside nested models (Keras's <c>expand_nested=True</c>).</param>
    public static ModelSummary Of(ModelFile model, bool expandNested = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var root = model.Modules;
        var rows = new List<SummaryRow>();
        foreach (var layer in root.Children)
        {
            // A Sequential model's InputLayer is in its config but not in model.layers, so summary() has no row for it
            // (Keras 2 and 3 alike); a Functional model lists its inputs.
            if (root.Type == "Sequential" && layer.Type == "InputLayer") continue;
            AddRows(rows, layer, 0, expandNested);
        }
        // Weights the model owns directly, not through a layer (tf.keras's top_level_model_weights, a PyTorch module's
        // own nn.Parameter): Keras counts them in the totals without a row; a row here keeps rows and totals adding up.
        if (root.Parameters.Count + root.Buffers.Count > 0)
        {
            var own = root.Parameters.Concat(root.Buffers).Where(kv => kv.Value is not null).ToList();
            var tensors = own.Select(kv => kv.Value!).Distinct().ToList();
            rows.Add(new SummaryRow(OwnWeightsRowName, null, 0, tensors.Sum(t => t.ElementCount),
                tensors.Any(t => t.Role == TensorRole.Parameter) ? LayerTrainable.Yes
                    : tensors.All(t => t.Role == TensorRole.Other) ? LayerTrainable.Unknown : LayerTrainable.No,
                own.Select(kv => new SummaryWeight(kv.Key, kv.Value!)).ToList(), root));
        }

        // Each tensor once (tied weights, shared storages), as Keras de-duplicates model.weights.
        var distinct = model.Tensors.Distinct().ToList();
        var inModel = root.AllTensors().ToHashSet();
        WeightCount Sum(TensorRole role) => WeightCount.Of(distinct.Where(t => t.Role == role));
        // Role-less tensors count as model weights when a layer owns them (a state dict's, an unknown Keras layer's);
        // those no layer owns (tf-keras metric variables, unmapped state) are listed apart, as Keras never counts them.
        var other = WeightCount.Of(distinct.Where(t => t.Role == TensorRole.Other && inModel.Contains(t)));
        // Tensors outside state_dict() (packed quantized weights, TorchScript constants) are no layer's weights either.
        var outside = WeightCount.Of(distinct.Where(t => (t.Role == TensorRole.Other && !inModel.Contains(t)) || t.Role.IsOutsideStateDict()));
        return new ModelSummary(NameOf(model, root), rows, Sum(TensorRole.Parameter), Sum(TensorRole.Buffer),
            Sum(TensorRole.OptimizerState), other, outside, WrittenByKeras3(model.Format));
    }

    // Keras 3's summary adds a built optimizer's variables to Total; Keras 2's never did. A .keras archive says which
    // Keras wrote it (tf-keras 2.15 also writes .keras archives, with keras_version 2.15.0); .weights.h5 is Keras 3 only.
    private static bool WrittenByKeras3(ModelFormatInfo format) => format.Name switch
    {
        "keras-weights" => true,
        "keras" => format.Version is not { } v || !int.TryParse(v.Split('.')[0], out int major) || major >= 3,
        _ => false,
    };

    private static void AddRows(List<SummaryRow> rows, ModuleNode node, int depth, bool expand)
    {
        var tensors = node.AllTensors().Distinct().ToList();
        var weights = node.Parameters.Concat(node.Buffers)
            .Where(kv => kv.Value is not null)
            .Select(kv => new SummaryWeight(kv.Key, kv.Value!))
            .ToList();
        rows.Add(new SummaryRow(node.Name, node.Type, depth, node.ParameterCount, TrainableFlag(node, tensors), weights, node));
        if (!expand) return;
        foreach (var child in node.Children) AddRows(rows, child, depth + 1, expand);
    }

    // Keras prints Y/N from layer.trainable for layers with weights and "-" for layers without. A config's "trainable"
    // flag is that attribute; without one (PyTorch, weights-only files) a layer is trainable when it owns a trainable
    // tensor, and unknown when the file records no role for any of its tensors (a bare state dict).
    private static LayerTrainable TrainableFlag(ModuleNode node, List<TensorEntry> tensors)
    {
        if (tensors.Count == 0) return LayerTrainable.NoWeights;
        if (node.Attributes.TryGetValue("trainable", out var flag) && flag is bool b) return b ? LayerTrainable.Yes : LayerTrainable.No;
        if (tensors.Any(t => t.Role == TensorRole.Parameter)) return LayerTrainable.Yes;
        return tensors.All(t => t.Role == TensorRole.Other) ? LayerTrainable.Unknown : LayerTrainable.No;
    }

    private static string NameOf(ModelFile model, ModuleNode root)
    {
        if (root.Attributes.TryGetValue("name", out var n) && n is string s && s.Length > 0) return s;
        if (root.Type is not null) return root.Type;
        return model.Path is { } p ? System.IO.Path.GetFileNameWithoutExtension(p) : "model";
    }
}

/// <summary>One row of a <see cref="ModelSummary"/>: a layer, its type, its parameter count and whether it is trainable.</summary>
/// <param name="Name">Layer name (<c>dense_1</c>, <c>fc1</c>).</param>
/// <param name="Type">Class name (<c>Dense</c>), or null when the file does not record it.</param>
/// <param name="Depth">0 for the model's own layers, 1 and more inside nested models.</param>
/// <param name="Params">Elements of every weight in the layer (trainable or not), as Keras's <c>layer.count_params()</c>.</param>
/// <param name="Trainable">Keras's Trainable column: Y, N, - for a layer without weights, ? when the file does not say.</param>
/// <param name="Weights">The weights the layer owns directly, by local name (<c>kernel</c>, <c>bias</c>).</param>
/// <param name="Module">The module-tree node.</param>
public sealed record SummaryRow(string Name, string? Type, int Depth, long Params, LayerTrainable Trainable,
    IReadOnlyList<SummaryWeight> Weights, ModuleNode Module);

/// <summary>Whether a layer is trainable, as Keras's <c>summary(show_trainable=True)</c> column shows it.</summary>
public enum LayerTrainable
{
    /// <summary>The layer has no weights ("-").</summary>
    NoWeights,
    /// <summary>Trainable ("Y").</summary>
    Yes,
    /// <summary>Frozen, or owning only non-trainable state ("N").</summary>
    No,
    /// <summary>The file does not record which weights are trainable ("?"): a bare state dict.</summary>
    Unknown,
}

/// <summary>A weight owned by a layer: its local name and tensor.</summary>
/// <param name="Name">Local name (<c>kernel</c>, <c>moving_mean</c>).</param>
/// <param name="Tensor">The tensor.</param>
public sealed record SummaryWeight(string Name, TensorEntry Tensor);

/// <summary>A number of weights (elements) and their size in bytes.</summary>
/// <param name="Params">Elements.</param>
/// <param name="Bytes">Bytes at each tensor's dtype (Keras's <c>weight_memory_size</c>).</param>
public readonly record struct WeightCount(long Params, long Bytes)
{
    /// <summary>Elements and bytes of these tensors.</summary>
    public static WeightCount Of(IEnumerable<TensorEntry> tensors)
    {
        long n = 0, b = 0;
        foreach (var t in tensors) { n = checked(n + t.ElementCount); b = checked(b + t.ByteSize); }
        return new WeightCount(n, b);
    }

    /// <summary>The sum of two counts.</summary>
    public static WeightCount operator +(WeightCount a, WeightCount b) => new(checked(a.Params + b.Params), checked(a.Bytes + b.Bytes));

    /// <summary>Bytes as Keras's <c>readable_memory_size</c> prints them: <c>18.79 KB</c>, <c>0.00 B</c> (1 KB = 1024 B).</summary>
    public string ReadableSize()
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double size = Bytes;
        foreach (var unit in units)
        {
            if (size / 1024 < 1) return PythonFloat.Fixed(size, 2) + " " + unit;
            size /= 1024;
        }
        return PythonFloat.Fixed(size, 2) + " " + units[^1]; // "{:.2f}": ties to even on the exact binary value, as Python
    }
}
