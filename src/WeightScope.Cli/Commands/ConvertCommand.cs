using System.CommandLine;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope convert IN OUT</c>: any readable format to any writable one, like <c>torch.save(sd)</c> / <c>np.savez(**sd)</c>.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("in") { Description = "Weight file or folder to read (any format WeightScope reads)" };
        var output = new Argument<string>("out") { Description = "File to write; its ending picks the format unless --format is given" };
        var format = WriteCli.FormatOption();
        var dtype = new Option<string?>("--dtype") { Description = "Convert floating-point tensors to float16, bfloat16, float32 or float64 (round to nearest even, as torch's .to(dtype)); integers are kept" };
        var filter = new Option<string[]>("--filter", "-f") { Description = "Keep only this name or names matching a glob ('encoder.*'); a plain name is exact, not a substring; repeatable" };
        var drop = new Option<string[]>("--drop") { Description = "Leave out this name or names matching a glob; repeatable" };
        var rename = new Option<string[]>("--rename") { Description = "Rename: sed rule 's/^module\\.//' or exact OLD=NEW; repeatable, applied in order after --filter/--drop" };
        var compress = WriteCli.CompressOption();
        var refuseShared = WriteCli.RefuseSharedOption();
        var metadata = WriteCli.MetadataOption();
        var json = WriteCli.JsonOption();
        var cmd = new Command("convert", $"""
            Write the tensors of a weight file in another format. Writable formats: {string.Join(", ", TensorWriters.All.Select(w => $"{w.Name} ({string.Join(" ", w.Extensions)})"))}.
            The output is written to a temporary file beside OUT and renamed into place when complete.

            Examples:
              weightscope convert model.pt model.safetensors
              weightscope convert model.pt half.safetensors --dtype float16
              weightscope convert dp_checkpoint.pt clean.pt --rename 's/^module\.//'
              weightscope convert model.safetensors encoder.npz --filter 'encoder.*' --compress
            """) { input, output, format, dtype, filter, drop, rename, compress, refuseShared, metadata, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            DType? target = null;
            if (p.GetValue(dtype) is { } d)
            {
                if (!DTypes.TryParse(d, out var t) || !TensorCast.IsTarget(t))
                    throw new UsageException($"--dtype '{d}': expected float16, bfloat16, float32 or float64");
                target = t;
            }
            var renames = (p.GetValue(rename) ?? []).Select(WriteCli.ParseRename).ToList();
            if (WriteCli.SamePath(p.GetValue(input)!, p.GetValue(output)!))
                throw new UsageException("OUT is IN: convert never overwrites its input; write elsewhere, or use 'weightscope edit IN --in-place'");
            using var model = Common.Open(p.GetValue(input)!);
            WriteCli.CheckOutput(model, p.GetValue(output)!, inPlace: false);
            IReadOnlyList<TensorEntry> tensors = model.Tensors;
            var filters = p.GetValue(filter) ?? [];
            if (filters.Length > 0)
            {
                var keep = filters.SelectMany(g => WriteCli.MatchOrFail(tensors, g, "--filter")).ToHashSet();
                tensors = [.. tensors.Where(keep.Contains)];
            }
            foreach (var g in p.GetValue(drop) ?? [])
            {
                var gone = WriteCli.MatchOrFail(tensors, g, "--drop").ToHashSet();
                tensors = [.. tensors.Where(t => !gone.Contains(t))];
            }
            if (tensors.Count == 0) throw new UsageException("nothing to write: --filter/--drop left no tensors");
            if (target is { } to) tensors = [.. tensors.Select(t => TensorCast.Cast(t, to))];
            tensors = WriteCli.Rename(tensors, renames);
            var options = new WriteOptions
            {
                Metadata = WriteCli.Metadata(model, p.GetValue(metadata)),
                SharedStorage = p.GetValue(refuseShared) ? SharedStoragePolicy.Refuse : SharedStoragePolicy.Copy,
                Compress = p.GetValue(compress),
            };
            return WriteCli.Save(tensors, p.GetValue(output)!, p.GetValue(format), options, p.GetValue(json), "wrote");
        }));
        return cmd;
    }
}
