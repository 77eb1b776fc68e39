using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Every .h5/.hdf5 file of the shared corpus against h5py's answers (tests/fixtures/hdf5/corpus_expected.json, written by
/// hdf5_fixtures.py): every file opens with exactly h5py's numeric datasets (paths in visititems order, dtypes, shapes,
/// value sums, every dataset read). All 55 files open fully, so a not-supported error is a regression here.
/// </summary>
public class Hdf5CorpusTests
{
    private static JsonElement Expected()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("hdf5", "corpus_expected.json")));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected().EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Opens_as_h5py_sees_it(string file)
    {
        var expected = Expected().GetProperty(file);
        string path = TestPaths.CorpusFile(file);
        // Keras 1/2 files open as keras-h5 (KerasH5Tests); here every file is read as plain HDF5, by path.
        using (var opened = ModelFile.Open(path))
            Assert.Equal(file.StartsWith("keras-h5/", StringComparison.Ordinal) ? "keras-h5" : file.StartsWith("keras3/", StringComparison.Ordinal) ? "keras-weights" : "hdf5", opened.Format.Name);
        using var mapped = WeightScope.IO.MappedFile.Open(path);
        using (var model = WeightScope.Formats.Hdf5.Hdf5Reader.Read(new WeightScope.Formats.DetectionContext(path, mapped, null, isDirectory: false), ReaderOptions.Default))
        {
            if (expected.TryGetProperty("h5py_error", out _)) return; // libhdf5 refuses it; we only require that it opens
            var tensors = expected.GetProperty("tensors").EnumerateArray().ToList();
            Assert.Equal(tensors.Select(t => t.GetProperty("name").GetString()), model.Tensors.Select(t => t.Name));
            foreach (var t in tensors)
            {
                var actual = model.Tensors[t.GetProperty("name").GetString()!];
                Assert.Equal(t.GetProperty("dtype").GetString(), Hdf5FixtureTests.NumpyStr(actual));
                if (t.GetProperty("shape").ValueKind == JsonValueKind.Array)
                    Assert.Equal(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.Shape);
                double[] values = actual.ToFloat64();
                double sum = values.Where(double.IsFinite).Sum();
                double want = t.GetProperty("sum").GetDouble();
                Assert.True(Math.Abs(sum - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{actual.Name}: sum {sum}, h5py {want}");
            }
        }
    }
}
