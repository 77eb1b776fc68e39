using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Output;

/// <summary>
/// The JSON shapes of the CLI's <c>--json</c> outputs (<c>list</c>, <c>tree</c>, <c>stats</c>, <c>hist</c>, <c>diff</c>,
/// documented as stable in the README) and the viewer's API (<c>weightscope serve</c>), which answers in the same shapes:
/// one writer per shape, so the two cannot drift. What the viewer adds (each tensor's <c>index</c> in its file, a diff
/// pair's number, sizes as text) is asked for by a parameter and absent otherwise. Written with <see cref="Utf8JsonWriter"/> only (no
/// reflection: trimming and AOT safe); the caller chooses the writer's options (indentation, escaping).
/// </summary>
public static class ModelJson
{
    /// <summary>
    /// <c>list --json</c>: <c>{"file","format","tensors":[{"index"?,"name","dtype","stored_as"?,"shape","role","params","bytes"}],"totals":{…}}</c>.
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="model">The file: its path and format head the object.</param>
    /// <param name="tensors">The tensors to list (all of the file's, or a selection), in order.</param>
    /// <param name="totals">The totals to write (of <paramref name="tensors"/>).</param>
    /// <param name="indexOf">When given, adds each tensor's <c>index</c> (its position in the file's collection) first.</param>
    /// <param name="sizes">When true, adds a <c>size</c> after every <c>bytes</c>: the text <see cref="Units.Bytes"/> makes of it.</param>
    public static void TensorList(Utf8JsonWriter w, ModelFile model, IEnumerable<TensorEntry> tensors, TensorTotals totals, Func<TensorEntry, int>? indexOf = null,
        bool sizes = false)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(totals);
        w.WriteStartObject();
        w.WriteString("file", model.Path);
        w.WriteString("format", model.Format.Name);
        w.WriteStartArray("tensors");
        foreach (var t in tensors)
        {
            w.WriteStartObject();
            if (indexOf is not null) w.WriteNumber("index", indexOf(t));
            w.WriteString("name", t.Name);
            w.WriteString("dtype", t.DType.Name());
            if (t.Quantization?.BlockType is { } stored) w.WriteString("stored_as", stored);
            Shape(w, "shape", t.Shape);
            w.WriteString("role", t.Role.ToString());
            w.WriteNumber("params", t.ElementCount);
            Bytes(w, t.ByteSize, sizes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Totals(w, totals, sizes);
        w.WriteEndObject();
    }

    /// <summary>
    /// What a file is, without its tensors (the viewer's file header):
    /// <c>{"file" (the file name),"path","format","version","producer","has_module_tree","totals":{…}}</c>.
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="model">The file.</param>
    /// <param name="sizes">When true, adds a <c>size</c> after every <c>bytes</c>: the text <see cref="Units.Bytes"/> makes of it.</param>
    public static void Summary(Utf8JsonWriter w, ModelFile model, bool sizes = false)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(model);
        w.WriteStartObject();
        w.WriteString("file", model.Path is null ? null : System.IO.Path.GetFileName(model.Path.TrimEnd('/', '\\')));
        w.WriteString("path", model.Path);
        w.WriteString("format", model.Format.Name);
        w.WriteString("version", model.Format.Version);
        w.WriteString("producer", model.Format.Producer);
        w.WriteBoolean("has_module_tree", model.HasModuleTypes);
        Totals(w, model.Tensors.Totals, sizes);
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>"totals":{"tensors","params","elements","bytes","by_dtype":{},"by_role":{},"shared_storages":[]}</c>, as
    /// <c>list --json</c> and <c>info --json</c> write it.
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="totals">The totals.</param>
    /// <param name="sizes">When true, adds a <c>size</c> after every <c>bytes</c>: the text <see cref="Units.Bytes"/> makes of it.</param>
    public static void Totals(Utf8JsonWriter w, TensorTotals totals, bool sizes = false)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(totals);
        w.WriteStartObject("totals");
        w.WriteNumber("tensors", totals.Tensors);
        w.WriteNumber("params", totals.Parameters);
        w.WriteNumber("elements", totals.Elements);
        Bytes(w, totals.Bytes, sizes);
        Groups(w, "by_dtype", totals.ByDType.Select(kv => (kv.Key, kv.Value)), sizes);
        Groups(w, "by_role", totals.ByRole.Select(kv => (kv.Key.ToString(), kv.Value)), sizes);
        w.WriteStartArray("shared_storages");
        foreach (var s in totals.SharedStorages)
        {
            w.WriteStartObject();
            w.WriteString("storage", s.Key);
            Bytes(w, s.Bytes, sizes);
            Strings(w, "tensors", s.TensorNames);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Groups(Utf8JsonWriter w, string name, IEnumerable<(string Key, TotalsGroup Group)> groups, bool sizes)
    {
        w.WriteStartObject(name);
        foreach (var (k, g) in groups)
        {
            w.WriteStartObject(k);
            w.WriteNumber("tensors", g.Tensors);
            w.WriteNumber("params", g.Parameters);
            Bytes(w, g.Bytes, sizes);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    // "bytes": n, and with sizes "size": "1.50 KiB" after it.
    private static void Bytes(Utf8JsonWriter w, long bytes, bool sizes)
    {
        w.WriteNumber("bytes", bytes);
        if (sizes) w.WriteString("size", Units.Bytes(bytes));
    }

    /// <summary>
    /// <c>tree --json</c>: <c>{"name","path","type","qualified_type"?,"params","attributes":{},"parameters":[],"buffers":[],"children":[…]}</c>,
    /// each parameter or buffer <c>{"name","tensor","index"?,"dtype","shape","params"}</c> (<c>"tensor":null</c> for an empty slot).
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="node">The module to write, with its children.</param>
    /// <param name="depth">How many levels of children to write below <paramref name="node"/>; all when null.</param>
    /// <param name="indexOf">When given, adds each tensor's <c>index</c> in the file; a negative answer (a tensor not in the file's collection) adds none.</param>
    public static void Tree(Utf8JsonWriter w, ModuleNode node, int? depth = null, Func<TensorEntry, int>? indexOf = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(node);
        w.WriteStartObject();
        w.WriteString("name", node.Name);
        w.WriteString("path", node.Path);
        w.WriteString("type", node.Type);
        if (node.QualifiedType is not null) w.WriteString("qualified_type", node.QualifiedType);
        w.WriteNumber("params", node.ParameterCount);
        w.WritePropertyName("attributes");
        Value(w, node.Attributes);
        TreeTensors(w, "parameters", node.Parameters, indexOf);
        TreeTensors(w, "buffers", node.Buffers, indexOf);
        w.WriteStartArray("children");
        if (depth is null || depth > 0)
            foreach (var c in node.Children) Tree(w, c, depth - 1, indexOf);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void TreeTensors(Utf8JsonWriter w, string name, OrderedDictionary<string, TensorEntry?> tensors, Func<TensorEntry, int>? indexOf)
    {
        w.WriteStartArray(name);
        foreach (var (local, t) in tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", local);
            if (t is null)
            {
                w.WriteNull("tensor");
            }
            else
            {
                w.WriteString("tensor", t.Name);
                if (indexOf?.Invoke(t) is >= 0 and var index) w.WriteNumber("index", index);
                w.WriteString("dtype", t.DType.Name());
                Shape(w, "shape", t.Shape);
                w.WriteNumber("params", t.ElementCount);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary><c>stats --json</c>: <c>{"tensors":[…],"overall":{…},"eps"}</c>, each entry as <see cref="Stats(Utf8JsonWriter, TensorStatistics)"/> writes it.</summary>
    public static void StatsReport(Utf8JsonWriter w, StatsReport report, float eps)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(report);
        w.WriteStartObject();
        w.WriteStartArray("tensors");
        foreach (var t in report.Tensors) Stats(w, t);
        w.WriteEndArray();
        w.WritePropertyName("overall");
        Stats(w, report.Overall);
        w.WriteNumber("eps", eps);
        w.WriteEndObject();
    }

    /// <summary>
    /// One tensor's statistics as <c>stats --json</c> writes each entry: <c>{"name","dtype","count","min","max","mean",
    /// "std","l1","l2","mean_abs","zeros","near_zero","nan","pos_inf","neg_inf"}</c> (null where there is no finite value).
    /// </summary>
    public static void Stats(Utf8JsonWriter w, TensorStatistics s)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(s);
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        w.WriteString("dtype", s.DType);
        w.WriteNumber("count", s.Count);
        Number(w, "min", s.Min);
        Number(w, "max", s.Max);
        Number(w, "mean", s.Mean);
        Number(w, "std", s.Std);
        Number(w, "l1", s.L1);
        Number(w, "l2", s.L2);
        Number(w, "mean_abs", s.MeanAbs);
        w.WriteNumber("zeros", s.Zeros);
        w.WriteNumber("near_zero", s.NearZero);
        w.WriteNumber("nan", s.NaN);
        w.WriteNumber("pos_inf", s.PosInf);
        w.WriteNumber("neg_inf", s.NegInf);
        w.WriteEndObject();
    }

    /// <summary><c>hist --json</c>: <c>{"tensors":[…]}</c>, each entry as <see cref="Histogram(Utf8JsonWriter, Analysis.Histogram)"/> writes it.</summary>
    public static void Histograms(Utf8JsonWriter w, IEnumerable<Histogram> histograms)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(histograms);
        w.WriteStartObject();
        w.WriteStartArray("tensors");
        foreach (var h in histograms) Histogram(w, h);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>One histogram as <c>hist --json</c> writes each entry: <c>{"name","bins":[edges],"counts":[…],"nan","pos_inf","neg_inf"}</c>.</summary>
    public static void Histogram(Utf8JsonWriter w, Histogram h)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(h);
        w.WriteStartObject();
        w.WriteString("name", h.Name);
        Numbers(w, "bins", h.Edges);
        Integers(w, "counts", h.Counts);
        w.WriteNumber("nan", h.NaN);
        w.WriteNumber("pos_inf", h.PositiveInfinity);
        w.WriteNumber("neg_inf", h.NegativeInfinity);
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>diff --json</c>: <c>{"a","b","format_a","format_b","atol","rtol","identical","stripped_prefix":{"a","b"},
    /// "paired_sole_tensors","tensors":[…],"only_in_a":[],"only_in_b":[],"summary":{}}</c>.
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="a">File A, as given to <see cref="Analysis.Diff.Compare"/>.</param>
    /// <param name="b">File B.</param>
    /// <param name="r">The comparison.</param>
    /// <param name="options">The options it was made with (their tolerances are written).</param>
    /// <param name="include">When given, only the pairs it accepts are listed in <c>tensors</c> (the summary counts all).</param>
    /// <param name="indexOf">
    /// When given, adds <c>pair</c> (the position in <see cref="DiffResult.Pairs"/>), <c>index_a</c> and <c>index_b</c>
    /// (each tensor's position in its file, found by name) first in each tensor entry.
    /// </param>
    public static void Diff(Utf8JsonWriter w, ModelFile a, ModelFile b, DiffResult r, DiffOptions options,
        Func<TensorComparison, bool>? include = null, Func<ModelFile, string, int>? indexOf = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(options);
        w.WriteStartObject();
        w.WriteString("a", a.Path);
        w.WriteString("b", b.Path);
        w.WriteString("format_a", a.Format.Name);
        w.WriteString("format_b", b.Format.Name);
        w.WriteNumber("atol", options.Atol);
        w.WriteNumber("rtol", options.Rtol);
        w.WriteBoolean("identical", r.Identical);
        w.WriteStartObject("stripped_prefix");
        w.WriteString("a", r.StrippedPrefixA);
        w.WriteString("b", r.StrippedPrefixB);
        w.WriteEndObject();
        w.WriteBoolean("paired_sole_tensors", r.PairedSoleTensors);
        w.WriteStartArray("tensors");
        for (int i = 0; i < r.Pairs.Count; i++)
        {
            var c = r.Pairs[i];
            if (include is not null && !include(c)) continue;
            w.WriteStartObject();
            if (indexOf is not null)
            {
                w.WriteNumber("pair", i);
                w.WriteNumber("index_a", indexOf(a, c.NameA));
                w.WriteNumber("index_b", indexOf(b, c.NameB));
            }
            w.WriteString("name_a", c.NameA);
            w.WriteString("name_b", c.NameB);
            w.WriteString("dtype_a", c.DTypeA.Name());
            w.WriteString("dtype_b", c.DTypeB.Name());
            Shape(w, "shape_a", c.ShapeA);
            Shape(w, "shape_b", c.ShapeB);
            w.WriteBoolean("compared", c.Compared);
            if (c.Compared)
            {
                w.WriteNumber("elements", c.Elements);
                w.WriteBoolean("bytes_only", c.BytesOnly);
                Number(w, "max_abs_diff", c.MaxAbsDiff);
                Number(w, "mean_abs_diff", c.MeanAbsDiff);
                Number(w, "rel_l2", c.RelativeL2);
                Number(w, "cosine", c.Cosine);
                w.WriteNumber("different_elements", c.DifferentElements);
                w.WriteBoolean("equal", c.Equal);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Strings(w, "only_in_a", r.OnlyInA);
        Strings(w, "only_in_b", r.OnlyInB);
        var compared = r.Compared.ToList();
        w.WriteStartObject("summary");
        w.WriteNumber("compared", compared.Count);
        w.WriteNumber("equal", compared.Count(c => c.Equal));
        w.WriteNumber("different", compared.Count(c => !c.Equal));
        w.WriteNumber("only_in_a", r.OnlyInA.Count);
        w.WriteNumber("only_in_b", r.OnlyInB.Count);
        w.WriteNumber("shape_mismatches", r.Pairs.Count(c => c.ShapeMismatch));
        w.WriteNumber("dtype_mismatches", r.Pairs.Count(c => c.DTypeMismatch));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>An array property holding a shape's dimensions.</summary>
    public static void Shape(Utf8JsonWriter w, string name, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartArray(name);
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }

    /// <summary>An array property of numbers, NaN and infinities as strings (see <see cref="Number(Utf8JsonWriter, double)"/>).</summary>
    public static void Numbers(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(values);
        w.WriteStartArray(name);
        foreach (var v in values) Number(w, v);
        w.WriteEndArray();
    }

    /// <summary>An array property of integers (written without a fraction).</summary>
    public static void Integers(Utf8JsonWriter w, string name, IEnumerable<long> values)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(values);
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>An array property of strings.</summary>
    public static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(values);
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    /// <summary>A named number, null when absent, NaN and infinities as strings (see <see cref="Number(Utf8JsonWriter, double)"/>).</summary>
    public static void Number(Utf8JsonWriter w, string name, double? d)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WritePropertyName(name);
        if (d is { } v) Number(w, v);
        else w.WriteNullValue();
    }

    /// <summary>JSON has no NaN or infinities: they are written as the strings "NaN", "Infinity", "-Infinity".</summary>
    public static void Number(Utf8JsonWriter w, double d)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (double.IsFinite(d)) w.WriteNumberValue(d);
        else w.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }

    /// <summary>
    /// A metadata or attribute value (see <see cref="ModelFile.Metadata"/> for the conventions) as JSON: dictionaries as
    /// objects, other sequences as arrays, bytes as base64, big integers as bare numbers, anything else as its string;
    /// nesting deeper than 64 levels is cut to "…", and so is everything after the first <see cref="MaxJsonValues"/>
    /// values: a pickle's memo lets 221 bytes name one list from a million places (a DAG that unfolds to 2²⁰ leaves), and
    /// JSON has no way to say "the same object", so the unfolding is cut rather than written out (issue 17 §4).
    /// </summary>
    public static void Value(Utf8JsonWriter w, object? v)
    {
        ArgumentNullException.ThrowIfNull(w);
        int budget = MaxJsonValues;
        Value(w, v, 0, ref budget);
    }

    /// <summary>Values (scalars and containers) one metadata value writes before the rest is cut to "…".</summary>
    public const int MaxJsonValues = 100_000;

    private static void Value(Utf8JsonWriter w, object? v, int depth, ref int budget)
    {
        if (depth > 64) { w.WriteStringValue("…"); return; }
        if (--budget < 0)
        {
            w.WriteStringValue(budget == -1 ? $"… (cut: more than {MaxJsonValues:N0} values)" : "…");
            return;
        }
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case double d: Number(w, d); break;
            case float f: Number(w, f); break;
            case System.Numerics.BigInteger bi: w.WriteRawValue(bi.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case byte[] bytes: w.WriteStringValue(Convert.ToBase64String(bytes)); break;
            case System.Collections.IDictionary dict:
                w.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in dict)
                {
                    w.WritePropertyName(e.Key?.ToString() ?? "null");
                    Value(w, e.Value, depth + 1, ref budget);
                    if (budget < 0) break;
                }
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                w.WriteStartObject();
                foreach (var (k, val) in pairs)
                {
                    w.WritePropertyName(k);
                    Value(w, val, depth + 1, ref budget);
                    if (budget < 0) break;
                }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    Value(w, item, depth + 1, ref budget);
                    if (budget < 0) break;
                }
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}
