using System.Text.Json;
using WeightScope.Formats;
using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.IO;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// The fixtures and every corpus HDF5 file against h5dump's view (libhdf5's own tool; tests/fixtures/hdf5/
/// h5dump_expected.json, written by hdf5_fixtures.py from <c>h5dump -x -p -m %.17g</c>): every dataset h5dump lists is a
/// tensor (numbers, bools) or a metadata entry (strings, compounds, vlen, references) under its path; the parsed
/// datatype has h5dump's class, size, byte order and sign; the shape, the layout class, the chunk dimensions and filter
/// ids are h5dump's; values sum to h5dump's (printed with 17 significant digits); strings are h5dump's strings.
/// </summary>
public class Hdf5H5dumpTests
{
    private const string FixturePrefix = "fixture:";
    private const int H5pyLzf = 32000;

    private static JsonElement Expected()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("hdf5", "h5dump_expected.json")));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> Fixtures() => Keys(k => k.StartsWith(FixturePrefix, StringComparison.Ordinal));

    public static TheoryData<string> CorpusFiles() => Keys(k => !k.StartsWith(FixturePrefix, StringComparison.Ordinal));

    private static TheoryData<string> Keys(Func<string, bool> which)
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected().EnumerateObject()) if (which(p.Name)) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_matches_h5dump(string key) => Check(key, TestPaths.Fixture("hdf5", key[FixturePrefix.Length..]));

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_matches_h5dump(string key) => Check(key, TestPaths.CorpusFile(key));

    private static void Check(string key, string path) => Check(Expected().GetProperty(key), path);

    /// <summary>The file at <paramref name="path"/> against h5dump's answers for it (an entry of an h5dump_*.json).</summary>
    internal static void Check(JsonElement expected, string path)
    {
        using var mapped = MappedFile.Open(path);
        using var model = Hdf5Reader.Read(new DetectionContext(path, mapped, null, isDirectory: false), ReaderOptions.Default);
        if (expected.TryGetProperty("h5dump_error", out _)) return; // libhdf5 refuses it (consistency flags set); we open it
        using var nav = new Hdf5Navigator(File.ReadAllBytes(path));
        var datasets = expected.GetProperty("datasets").EnumerateArray().ToList(); // a few corpus files hold only attributes
        var tensorNames = new List<string>();
        foreach (var d in datasets)
        {
            string name = d.GetProperty("name").GetString()!;
            var type = d.GetProperty("type");
            string cls = type.GetProperty("class").GetString()!;
            var obj = nav.Object(name);
            CheckType(type, obj.Type!, name);
            long[]? shape = d.GetProperty("shape").ValueKind == JsonValueKind.Null ? null : d.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            Assert.Equal(shape ?? [], obj.Space!.IsNull ? [] : obj.Space.Dims);
            Assert.Equal(shape is null, obj.Space.IsNull);
            CheckLayout(d, obj.Layout!, obj.Filters.Select(f => f.Id).ToList(), name);
            if (obj.Type!.ToDType() is { } dtype)
            {
                var t = model.Tensors[name];
                tensorNames.Add(name);
                Assert.Equal(dtype, t.DType);
                Assert.Equal(shape ?? [0], t.Shape.ToArray());
                if (d.TryGetProperty("sum", out var sum))
                {
                    var values = t.ToFloat64().Where(double.IsFinite).ToArray();
                    Assert.Equal(d.GetProperty("count").GetInt32(), t.ToFloat64().Length);
                    double tolerance = 1e-9 * Math.Max(1, d.GetProperty("abs_sum").GetDouble());
                    Assert.True(Math.Abs(values.Sum() - sum.GetDouble()) <= tolerance, $"{name}: sum {values.Sum()}, h5dump {sum.GetDouble()}");
                }
            }
            else
            {
                Assert.False(cls is "IntegerType" or "FloatType" or "BitfieldType", $"{name}: h5dump's {cls} should be a tensor");
                object? value = model.Metadata.TryGetValue(name, out var v) ? v : model.Metadata["/" + name];
                if (d.TryGetProperty("strings", out var strings))
                {
                    var ours = Flatten(value).ToList();
                    var theirs = strings.EnumerateArray().Select(s => s.GetString()).ToList();
                    Assert.Equal(theirs.Count, ours.Count);
                    for (int i = 0; i < ours.Count; i++)
                        if (!theirs[i]!.Contains('\\')) // h5dump escapes quotes and control characters; compare the rest
                            Assert.Equal(theirs[i], PadTrimmed(ours[i], type));
                }
                else if (shape is null) Assert.Null(value); // null dataspace (h5py.Empty), like a null attribute
                else Assert.IsType<WeightScope.Modules.OpaqueObject>(value);
            }
        }
        // Both walk by name, each object once: the same tensors in the same order, and no tensor h5dump does not list.
        Assert.Equal(tensorNames, model.Tensors.Select(t => t.Name));
    }

    // h5dump prints a space-padded string with its padding (up to the fixed size); the reader trims it, as h5py does.
    private static string? PadTrimmed(object? ours, JsonElement type) =>
        ours is string s && type.GetProperty("pad").GetString() == "H5T_STR_SPACEPAD" && int.TryParse(type.GetProperty("size").GetString(), out int n)
            ? s.PadRight(n) : ours as string;

    private static IEnumerable<object?> Flatten(object? value) =>
        value is List<object?> list ? list.SelectMany(Flatten) : [value];

    private static void CheckType(JsonElement expected, Datatype actual, string name)
    {
        string cls = expected.GetProperty("class").GetString()!;
        var want = cls switch
        {
            "IntegerType" => DatatypeClass.FixedPoint,
            "BitfieldType" => DatatypeClass.BitField,
            "FloatType" => DatatypeClass.FloatingPoint,
            "StringType" when expected.GetProperty("size").GetString() == "H5T_VARIABLE" => DatatypeClass.VariableLength,
            "StringType" => DatatypeClass.String,
            "EnumType" => DatatypeClass.Enumerated,
            "CompoundType" => DatatypeClass.Compound,
            "VLType" => DatatypeClass.VariableLength,
            "ArrayType" => DatatypeClass.Array,
            "ReferenceType" => DatatypeClass.Reference,
            "OpaqueType" => DatatypeClass.Opaque,
            _ => throw new Xunit.Sdk.XunitException($"{name}: h5dump type class {cls} not mapped by this test"),
        };
        Assert.Equal(want, actual.Class);
        switch (cls)
        {
            case "IntegerType" or "FloatType" or "BitfieldType":
                Assert.Equal(expected.GetProperty("size").GetInt32(), actual.Size);
                Assert.Equal(expected.GetProperty("order").GetString() == "BE", actual.BigEndian);
                if (cls == "IntegerType") Assert.Equal(expected.GetProperty("sign").GetBoolean(), actual.Signed);
                break;
            case "StringType" when want == DatatypeClass.String:
                Assert.Equal(int.Parse(expected.GetProperty("size").GetString()!), actual.Size);
                break;
            case "StringType":
                Assert.True(actual.IsVlenString, $"{name}: a variable-length string");
                break;
            case "EnumType" or "VLType":
                CheckType(expected.GetProperty("base"), (cls == "EnumType" ? actual.EnumBase : actual.Base)!, name);
                break;
            case "CompoundType":
                var members = expected.GetProperty("members").EnumerateArray().ToList();
                Assert.Equal(members.Select(m => m[0].GetString()), actual.Members.Select(m => m.Name));
                for (int i = 0; i < members.Count; i++) CheckType(members[i][1], actual.Members[i].Type, name + "." + actual.Members[i].Name);
                break;
        }
    }

    private static void CheckLayout(JsonElement expected, DataLayout layout, List<int> filters, string name)
    {
        if (!expected.TryGetProperty("layout", out var kind)) return;
        Assert.Equal(kind.GetString(), layout.Class.ToString().ToLowerInvariant());
        if (layout.Class != LayoutClass.Chunked) return;
        Assert.Equal(expected.GetProperty("chunks").EnumerateArray().Select(c => c.GetInt64()), layout.ChunkDims);
        // h5dump leaves out a filter it has no plugin for (h5py's LZF, id 32000), where h5py shows compression='lzf'; it
        // then prints "Unable to print data" unless every chunk skipped that optional filter (too small to compress).
        var theirs = expected.GetProperty("filters").EnumerateArray().Select(f => f.GetInt32()).ToList();
        Assert.Equal(theirs, filters.Where(f => f != H5pyLzf).ToList());
    }
}
