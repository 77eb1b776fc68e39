using System.Globalization;
using System.Text.RegularExpressions;
using WeightScope.Formats.PyTorch;
using WeightScope.Tensors;
using WeightScope.Tests.Corpus;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// Every file under ../shared/corpus/pytorch/ against the facts its MANIFEST.md row states beyond names and shapes
/// (which Corpus/CorpusManifestTests checks): the format and its records, storage counts and sharing, storage offsets,
/// top-level keys. None of these files is unsupported: all 52 open.
/// </summary>
public class PyTorchCorpusTests
{
    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (var r in CorpusManifest.Rows.Where(r => r.Folder == "pytorch")) d.Add(r.Path);
        if (d.Count == 0) d.Add("(corpus absent)");
        return d;
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Opens_as_its_manifest_row_describes(string path)
    {
        var row = CorpusManifest.Rows.Single(r => r.Path == path);
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        var c = row.Contents;

        string format = c.StartsWith("ZIP", StringComparison.Ordinal) ? PyTorchZipFormat.FormatName
            : c.StartsWith("LEGACY", StringComparison.Ordinal) ? PyTorchLegacyFormat.FormatName
            : TorchScriptFormat.FormatName;
        Assert.Equal(format, m.Format.Name);

        // "version=3, byteorder=little" (zip) and "version=3" (TorchScript): the records, as read into Format.Version
        if (Regex.Match(c, @"version=(\d+)") is { Success: true } v)
            Assert.Contains($"version {v.Groups[1].Value}", m.Format.Version);
        if (Regex.Match(c, @"byteorder=(\w+)") is { Success: true } bo)
        {
            if (bo.Groups[1].Value == "None") Assert.DoesNotContain("byteorder", m.Format.Version);
            else Assert.Contains($"byteorder {bo.Groups[1].Value}", m.Format.Version);
        }
        if (c.Contains("'.format_version'", StringComparison.Ordinal)) Assert.Contains("format_version 1", m.Format.Version);
        if (c.Contains("'.storage_alignment'", StringComparison.Ordinal)) Assert.Contains("storage_alignment 64", m.Format.Version);

        int storages = m.Tensors.Select(t => t.Storage).Distinct().Count();
        // "N tensor records" (TorchScript) and "nstorages=N" (legacy): the storages in the file, each read once
        if (Regex.Match(c, @"(\d+) tensor records") is { Success: true } tr)
            Assert.Equal(int.Parse(tr.Groups[1].Value, CultureInfo.InvariantCulture), storages);
        if (Regex.Match(c, @"nstorages=(\d+)") is { Success: true } ns)
            Assert.Equal(int.Parse(ns.Groups[1].Value, CultureInfo.InvariantCulture), storages);
        Assert.Equal(m.Tensors.Select(t => t.Storage).Distinct().Sum(s => s.ByteLength), m.Tensors.ByteSize);

        // "tensor1: FloatStorage [10] cpu off=10": the storage offset
        foreach (Match o in Regex.Matches(c, @"(?:^|; )([\w.]+): \w+Storage \[[\d, ]*\] [\w:]+ off=(\d+)"))
            Assert.Equal(long.Parse(o.Groups[2].Value, CultureInfo.InvariantCulture), m.Tensors[o.Groups[1].Value].StorageOffset);

        // "top: dict ['a', 'b']": every tensor and metadata key starts with one of the top-level keys
        if (Regex.Match(c, @"top: (?:dict|OrderedDict) \[([^\]]*)\]") is { Success: true } top)
        {
            var keys = Regex.Matches(top.Groups[1].Value, @"'([^']*)'").Select(k => k.Groups[1].Value).ToHashSet();
            foreach (var name in m.Tensors.Select(t => t.Name).Concat(m.Metadata.Keys))
                Assert.True(keys.Any(k => name == k || name.StartsWith(k + ".", StringComparison.Ordinal)), $"'{name}' is under none of {string.Join(", ", keys)}");
            Assert.All(keys, k => Assert.True(m.Tensors.Any(t => t.Name == k || t.Name.StartsWith(k + ".", StringComparison.Ordinal)) || m.Metadata.ContainsKey(k)
                || m.Metadata.Keys.Any(x => x.StartsWith(k + ".", StringComparison.Ordinal)), $"top-level key '{k}' is neither a tensor nor metadata"));
        }

        foreach (var t in m.Tensors) Assert.Equal(t.ByteSize, t.ReadBytes().LongLength);
    }

    [CorpusFact]
    public void Legacy_views_of_one_storage_share_it()
    {
        // "two 10-element views (offset 10 and 50) of ONE 100-element storage"
        using var m = ModelFile.Open(TestPaths.CorpusFile("pytorch/burn-reader/legacy_uncloned_views.pt"));
        Assert.Same(m.Tensors["tensor1"].Storage, m.Tensors["tensor2"].Storage);
        Assert.Equal(100 * 4, m.Tensors.ByteSize);
        Assert.IsType<MappedStorage>(m.Tensors["tensor1"].Storage); // zero-copy
    }

    [CorpusFact]
    public void Storages_saved_from_cuda_and_mps_are_read_as_bytes()
    {
        foreach (var path in new[] { "pytorch/zip/cuda-saved/mnist_mlp_cuda0_state_dict.pth", "pytorch/zip/mps-saved/mnist_mlp_mps_state_dict.pth" })
        {
            using var m = ModelFile.Open(TestPaths.CorpusFile(path));
            Assert.All(m.Tensors, t => Assert.True(t.ToFloat32().All(float.IsFinite)));
        }
    }

    [CorpusFact]
    public void Fortran_ordered_strides_are_kept()
    {
        // torch.from_numpy(np.asfortranarray(arange(1, 25).reshape(2, 3, 4)))
        using var m = ModelFile.Open(TestPaths.CorpusFile("pytorch/zip/candle/fortran_tensor_3d.pth"));
        var t = m.Tensors["tensor_fortran"];
        Assert.False(t.IsContiguous);
        Assert.Equal(Enumerable.Range(1, 24).Select(i => (double)i), t.ToFloat64());
    }

    [CorpusFact]
    public void A_pickled_non_model_object_becomes_inert_metadata()
    {
        // training_args.bin: a pickled transformers.TrainingArguments, kept as a stub with its state
        using var m = ModelFile.Open(TestPaths.CorpusFile("pytorch/zip/hf-trainer-artifacts/training_args.bin"));
        Assert.Empty(m.Tensors);
        var args = Assert.IsType<WeightScope.Modules.OpaqueObject>(m.Metadata[""]);
        Assert.Equal("transformers.training_args.TrainingArguments", args.TypeName);
        Assert.IsType<OrderedDictionary<string, object?>>(args.State);
    }

    [CorpusFact]
    public void TorchScript_module_trees_come_from_the_archive()
    {
        // "Sequential(Linear(1000,100), ReLU, Linear(100,10)) (nested)"
        using var m = ModelFile.Open(TestPaths.CorpusFile("pytorch/torchscript/TorchSharp-tests/l1000_100_10.script.dat"));
        Assert.True(m.HasModuleTypes);
        Assert.Equal(["Sequential", "Sequential", "Linear", "ReLU", "Linear"], m.Modules.Descendants().Select(n => n.Type));
        Assert.Equal(["0.0.weight", "0.0.bias", "1.weight", "1.bias"], m.Tensors.Select(t => t.Name));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role));
    }

    [CorpusFact]
    public void The_model_json_TorchScript_layout_is_read()
    {
        // "Foo: forward(x,y) = 2*x + y + self.value, buffer value=[42.0]" (a Tensor attribute of the 1.1 archive)
        using var m = ModelFile.Open(TestPaths.CorpusFile("pytorch/torchscript/tch-rs/foo_2019-05_legacy_modeljson.pt"));
        Assert.Equal([42f], m.Tensors["value"].ToFloat32());
        Assert.Equal("pytorch 1.0", m.Format.Producer);
    }
}
