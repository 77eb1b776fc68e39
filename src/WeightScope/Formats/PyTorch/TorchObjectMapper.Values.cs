using System.Globalization;
using System.Numerics;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

// Non-tensor leaves: pickle values converted to the conventions of ModelFile.Metadata and ModuleNode.Attributes.
internal sealed partial class TorchObjectMapper
{
    // --- metadata ----------------------------------------------------------------------------------------

    private void SetMetadata(string key, object? value)
    {
        if (!Metadata.TryAdd(key, value))
            for (int i = 2; ; i++)
                if (Metadata.TryAdd($"{key}#{i}", value)) return;
    }

    /// <summary>Converts an inert pickle value to the metadata conventions (see <see cref="ModelFile.Metadata"/>).</summary>
    public object? Convert(object? v, int depth)
    {
        Visit(depth);
        switch (v)
        {
            case null or bool or long or BigInteger or double or string or byte[]: return v;
            case Complex c: return new OpaqueObject("builtins.complex", [c.Real, c.Imaginary], null);
            case TorchDTypeValue or TorchDevice or TorchQScheme or TorchLayout: return v.ToString();
            case PyGlobal g: return new OpaqueObject("builtins.type", [g.FullName], null);
            case NumpyDType d: return new OpaqueObject("numpy.dtype", [d.Spec], null);
            case PySlice s: return new OpaqueObject("builtins.slice", [Convert(s.Start, depth + 1), Convert(s.Stop, depth + 1), Convert(s.Step, depth + 1)], null);
            case TorchStorageRef s: return new OpaqueObject($"torch.{s.Type.Name}", [s.Key, s.Location, s.Numel], null);
            case TorchTensor t: return new OpaqueObject("torch.Tensor", [t.DType.Name(), t.Size.Cast<object?>().ToArray()], null);
            case TorchTensorId id: return new OpaqueObject("torch.Tensor", [id.Id], null);
            case PyPersistentId p: return new OpaqueObject("persistent_id", [Convert(p.Payload, depth + 1)], null);
            case TorchUnsupportedTensor u: throw new UnsupportedModelFeatureException(format, u.Feature, u.Offset, entry);
        }
        if (!_onPath.Add(v)) return new OpaqueObject("<recursive reference>", [], null);
        try
        {
            switch (v)
            {
                case PyTuple t: return t.Items.Select(x => Convert(x, depth + 1)).ToArray();
                case PyList l: return l.Items.Select(x => Convert(x, depth + 1)).ToList();
                case PySet s: return s.Select(x => Convert(x, depth + 1)).ToList();
                case PyDict d: return ConvertDict(d.Items, depth);
                case PyObject o when o.State is null && o.DictItems is { } items && o.ListItems is null: return ConvertDict(items.Items, depth);
                case PyObject o when o.State is null && o.ListItems is { } items && o.DictItems is null: return items.Select(x => Convert(x, depth + 1)).ToList();
                case PyObject o:
                    return new OpaqueObject(o.TypeName, [.. o.Args.Items.Select(x => Convert(x, depth + 1))], Convert(o.State, depth + 1));
                default: return v.ToString();
            }
        }
        finally { _onPath.Remove(v); }
    }

    private OrderedDictionary<string, object?> ConvertDict(IReadOnlyList<KeyValuePair<object?, object?>> items, int depth)
    {
        var o = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var kv in items) o[KeyString(kv.Key)] = Convert(kv.Value, depth + 1);
        return o;
    }

    /// <summary>A dict key as a name component: what Python's <c>str(key)</c> gives.</summary>
    public static string KeyString(object? key) => key switch
    {
        string s => s,
        null => "None",
        bool b => b ? "True" : "False",
        long or BigInteger => System.Convert.ToString(key, CultureInfo.InvariantCulture)!,
        double d => PyRepr.Float(d),
        PyTuple t => t.Count == 1 ? $"({KeyString(t[0])},)" : $"({string.Join(", ", t.Items.Select(KeyString))})",
        byte[] b => $"b'{System.Text.Encoding.Latin1.GetString(b)}'",
        _ => PickleErrors.Describe(key),
    };
}

/// <summary>Python's <c>repr</c> of a float, for names and messages.</summary>
internal static class PyRepr
{
    /// <summary><c>repr(float)</c>: shortest round-trip digits, <c>1.0</c> not <c>1</c>, <c>inf</c>, <c>nan</c>.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            // Python writes 1e+16 / 1e-05 where .NET writes 1E+16 / 1E-05.
            var parts = s.Split('E');
            string exp = parts[1];
            string sign = exp.StartsWith('-') ? "-" : "+";
            exp = exp.TrimStart('+', '-').PadLeft(2, '0');
            return $"{parts[0]}e{sign}{exp}";
        }
        return s.Contains('.') ? s : s + ".0";
    }
}
