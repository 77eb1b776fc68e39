using System.Buffers.Binary;

namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// Optimizer state as TorchSharp's optimizers save it and <c>exportsd.py</c>'s <c>save_&lt;optimizer&gt;</c> writes it:
/// the optimizer's name (<c>BinaryWriter.Write(string)</c>), LEB128 param-group count, LEB128 state count, each group's
/// options, then each parameter's state. Options and state are fixed sequences per optimizer, listed in
/// <see cref="Layouts"/> in the order the writer emits them: <c>d</c> float64, <c>b</c> bool byte, <c>i</c> int64
/// (8 bytes, not LEB128), <c>t</c> tensor, <c>c</c> conditional tensor (a bool, then the tensor when true).
/// </summary>
internal static class TorchSharpOptimizer
{
    private static readonly Dictionary<string, (string Options, string State)> Layouts = new(StringComparer.Ordinal)
    {
        ["SGD"] = ("d:lr d:initial_lr d:momentum d:dampening d:weight_decay b:nesterov b:maximize", "c:momentum_buffer"),
        ["ASGD"] = ("d:lr d:initial_lr b:maximize d:lambd d:alpha d:weight_decay d:t0", "i:step d:eta d:mu t:ax"),
        ["Rprop"] = ("d:lr d:initial_lr b:maximize d:etaminus d:etaplus d:min_step d:max_step", "i:step t:prev t:step_size"),
        ["RMSProp"] = ("d:lr d:initial_lr b:maximize d:momentum d:alpha d:eps d:weight_decay b:centered", "i:step t:square_avg c:momentum_buffer c:grad_avg"),
        ["Adam"] = ("d:lr d:initial_lr d:beta1 d:beta2 d:eps d:weight_decay b:amsgrad b:maximize", "i:step t:exp_avg t:exp_avg_sq c:max_exp_avg_sq"),
        ["AdamW"] = ("d:lr d:initial_lr d:beta1 d:beta2 d:eps d:weight_decay b:amsgrad b:maximize", "i:step t:exp_avg t:exp_avg_sq c:max_exp_avg_sq"),
        ["NAdam"] = ("d:lr d:initial_lr d:beta1 d:beta2 d:eps d:weight_decay d:momentum_decay", "i:step d:mu_product t:exp_avg t:exp_avg_sq"),
        ["RAdam"] = ("d:lr d:initial_lr d:beta1 d:beta2 d:eps d:weight_decay", "i:step t:exp_avg t:exp_avg_sq"),
        ["Adamax"] = ("d:lr d:initial_lr d:beta1 d:beta2 d:eps d:weight_decay", "i:step t:exp_avg t:exp_inf"),
        ["Adadelta"] = ("d:lr d:initial_lr d:rho d:eps d:weight_decay b:maximize", "i:step t:square_avg t:acc_delta"),
        ["Adagrad"] = ("d:lr d:initial_lr d:lr_decay d:initial_accumulator_value d:eps d:weight_decay", "i:step t:sum"),
    };

    /// <summary>Optimizer names that may start such a file (RMSprop as torch spells it, too).</summary>
    public static bool IsKnown(string name) => Layouts.ContainsKey(name);

    /// <summary>The parsed file: tensors named <c>state.&lt;i&gt;.&lt;field&gt;</c>, scalars and options as values.</summary>
    public sealed record Parsed(string Optimizer, List<TorchSharpEntry> Tensors, List<object?> ParamGroups, OrderedDictionary<string, object?> StateValues);

    public static Parsed Parse(WeightScope.IO.MappedFile file, ReaderLimits limits)
    {
        var p = new TorchSharpParser(file);
        string name = p.Name();
        if (!Layouts.TryGetValue(name, out var layout)) throw TorchSharpErrors.UnknownOptimizer(name);
        long groupsAt = p.Position;
        long groups = p.Leb128("param-group count");
        long statesAt = p.Position;
        long states = p.Leb128("state count");
        // Every group and state entry takes at least one byte: counts beyond the bytes left are corrupt.
        if (groups > p.Remaining) throw TorchSharpErrors.CountBeyondFile(groups, groupsAt, p.Remaining);
        if (states > p.Remaining) throw TorchSharpErrors.CountBeyondFile(states, statesAt, p.Remaining);
        if (states > limits.MaxTensorCount)
            throw new ReaderLimitException(TorchSharpErrors.Format, nameof(ReaderLimits.MaxTensorCount), states, limits.MaxTensorCount, statesAt);
        var paramGroups = new List<object?>();
        for (long g = 0; g < groups; g++)
        {
            var options = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (kind, field) in Fields(layout.Options)) options[field] = Scalar(p, kind, field);
            paramGroups.Add(options);
        }
        var tensors = new List<TorchSharpEntry>();
        var values = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        for (long i = 0; i < states; i++)
        {
            foreach (var (kind, field) in Fields(layout.State))
            {
                string key = $"state.{i}.{field}";
                switch (kind)
                {
                    case 't':
                        tensors.Add(p.Tensor(key, p.Position));
                        break;
                    case 'c':
                        if ((bool)Scalar(p, 'b', key)!) tensors.Add(p.Tensor(key, p.Position));
                        break;
                    default:
                        values[key] = Scalar(p, kind, key);
                        break;
                }
            }
        }
        p.ExpectEnd();
        return new Parsed(name, tensors, paramGroups, values);
    }

    private static IEnumerable<(char Kind, string Field)> Fields(string layout) =>
        layout.Split(' ').Select(f => (f[0], f[2..]));

    private static object? Scalar(TorchSharpParser p, char kind, string what) => kind switch
    {
        'd' => BinaryPrimitives.ReadDoubleLittleEndian(p.Fixed(what, sizeof(double))),
        'i' => BinaryPrimitives.ReadInt64LittleEndian(p.Fixed(what, sizeof(long))),
        _ => p.Fixed(what, 1)[0] switch
        {
            0 => false,
            1 => true,
            var b => throw TorchSharpErrors.BadBool(what, b, p.Position - 1),
        },
    };
}
