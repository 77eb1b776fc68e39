using System.Globalization;
using System.Text.RegularExpressions;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Corpus;

/// <summary>
/// Every PyTorch, safetensors and NumPy file in the shared corpus opens with the tensors its MANIFEST.md row describes,
/// or fails with a documented not-supported error naming the feature (the list below, with the reason).
/// </summary>
public class CorpusManifestTests
{
    private static readonly string[] Folders = ["pytorch", "safetensors", "numpy"];

    /// <summary>Files that may fail, and the text their UnsupportedModelFeatureException must contain.</summary>
    private static readonly Dictionary<string, string> DocumentedUnsupported = new()
    {
        // numpy object arrays are pickles of arbitrary Python objects: never executed, so their values cannot be read.
        ["numpy/numpy-tests/py2-objarr.npy"] = "object",
        ["numpy/numpy-tests/py3-objarr.npy"] = "object",
    };

    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (var r in CorpusManifest.Rows.Where(r => Folders.Contains(r.Folder) && !r.Path.EndsWith(".pb", StringComparison.Ordinal)))
            d.Add(r.Path);
        if (d.Count == 0) d.Add("(corpus absent)");
        return d;
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Opens_with_the_tensors_its_manifest_row_describes(string path)
    {
        var row = CorpusManifest.Rows.Single(r => r.Path == path);
        ModelFile model;
        try
        {
            model = ModelFile.Open(TestPaths.CorpusFile(path));
        }
        catch (UnsupportedModelFeatureException e) when (DocumentedUnsupported.TryGetValue(path, out var feature))
        {
            Assert.Contains(feature, e.Message);
            return;
        }
        using (model)
        {
            Assert.False(DocumentedUnsupported.ContainsKey(path), $"{path} is listed as unsupported but opened; update the list");
            foreach (var (name, dtype, shape) in Expectations(row))
            {
                var t = name.Length == 0 ? Assert.Single(model.Tensors) : model.Tensors[name];
                Assert.Equal(dtype, t.DType);
                Assert.Equal(shape, t.Shape.ToArray());
                // every tensor's values are readable and the view lies inside its storage
                Assert.Equal(t.ByteSize, t.ReadBytes().LongLength);
            }
            if (Regex.Match(row.Contents, @"(\d+) tensors,") is { Success: true } m && row.Folder == "safetensors")
                Assert.Equal(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), model.Tensors.Count);
        }
    }

    private static readonly Dictionary<string, DType> Storages = new()
    {
        ["FloatStorage"] = DType.Float32,
        ["DoubleStorage"] = DType.Float64,
        ["HalfStorage"] = DType.Float16,
        ["BFloat16Storage"] = DType.BFloat16,
        ["LongStorage"] = DType.Int64,
        ["IntStorage"] = DType.Int32,
        ["ShortStorage"] = DType.Int16,
        ["CharStorage"] = DType.Int8,
        ["ByteStorage"] = DType.UInt8,
        ["BoolStorage"] = DType.Bool,
    };

    private static readonly Dictionary<string, DType> SafeTensorsTypes = new()
    {
        ["F32"] = DType.Float32,
        ["F64"] = DType.Float64,
        ["F16"] = DType.Float16,
        ["BF16"] = DType.BFloat16,
        ["I64"] = DType.Int64,
        ["I32"] = DType.Int32,
        ["I16"] = DType.Int16,
        ["I8"] = DType.Int8,
        ["U8"] = DType.UInt8,
        ["BOOL"] = DType.Bool,
    };

    private static readonly Dictionary<string, DType> NumPyTypes = new()
    {
        ["f8"] = DType.Float64,
        ["f4"] = DType.Float32,
        ["f2"] = DType.Float16,
        ["i8"] = DType.Int64,
        ["i4"] = DType.Int32,
        ["i2"] = DType.Int16,
        ["i1"] = DType.Int8,
        ["u1"] = DType.UInt8,
        ["b1"] = DType.Bool,
        ["c16"] = DType.Complex128,
        ["c8"] = DType.Complex64,
    };

    /// <summary>(name, dtype, shape) triples stated by a row; name "" means "the file's only tensor".</summary>
    private static IEnumerable<(string, DType, long[])> Expectations(ManifestRow row)
    {
        static long[] Dims(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.Parse(x.TrimEnd('L'), CultureInfo.InvariantCulture)).ToArray();
        switch (row.Folder)
        {
            case "pytorch":
                // "fc1.weight: FloatStorage [10, 5] cpu" — the tensor's dotted path, storage type and shape
                foreach (Match m in Regex.Matches(row.Contents, @"(?:^|; )([\w.]*): (\w+Storage) \[([\d, ]*)\]"))
                    if (Storages.TryGetValue(m.Groups[2].Value, out var dt))
                        yield return (m.Groups[1].Value, dt, Dims(m.Groups[3].Value));
                break;
            case "safetensors":
                foreach (Match m in Regex.Matches(row.Contents, @"(?:e\.g\. |; )([\w.]+) (F32|F64|F16|BF16|I64|I32|I16|I8|U8|BOOL) \[([\d, ]*)\]"))
                    yield return (m.Groups[1].Value, SafeTensorsTypes[m.Groups[2].Value], Dims(m.Groups[3].Value));
                break;
            case "numpy":
                var name = row.Path.EndsWith(".npz", StringComparison.Ordinal) ? "x" : "";
                foreach (Match m in Regex.Matches(row.Contents, @"'descr': '[<>|=]?(\w+)', 'fortran_order': \w+, 'shape': \(([\dL, ]*)\)"))
                    if (NumPyTypes.TryGetValue(m.Groups[1].Value, out var dt))
                    {
                        yield return (name, dt, Dims(m.Groups[2].Value));
                        break;
                    }
                break;
        }
    }
}
