using System.CommandLine;
using WeightScope.Cli.Output;
using WeightScope.Plotting;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope heatmap FILE NAME --out w.png</c>: a tensor's values as a blue–white–red picture.</summary>
internal static class HeatmapCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var name = new Argument<string>("name") { Description = "Tensor name, optionally with a numpy-style index: 'conv1.weight[0:8]'" };
        var output = new Option<string>("--out", "-o") { Description = "Image file to write: .png or .svg", Required = true };
        var cmd = new Command("heatmap", """
            Draw a tensor as a heatmap: blue negative, white 0, red positive, symmetric limits, with a colour bar.
            2-D matrices are block-averaged when large; conv weights [out,in,kh,kw] become a grid of kernels
            (a row per output channel, a column per input channel, up to 64 x 16); 1-D tensors are one row.

            Examples:
              weightscope heatmap model.pth fc1.weight --out fc1.png
              weightscope heatmap resnet.pth conv1.weight --out conv1.svg
              weightscope heatmap model.pth 'fc1.weight[0:16]' --out rows.png
            """) { file, name, output };
        cmd.SetAction(p => Common.Run(() =>
        {
            var outPath = p.GetValue(output)!;
            if (Path.GetExtension(outPath).ToLowerInvariant() is not (".png" or ".svg"))
                throw new UsageException($"--out: cannot tell the image format from '{outPath}': use a .png or .svg file name");
            using var model = Common.Open(p.GetValue(file)!);
            var t = ShowCommand.Resolve(model, p.GetValue(name)!, out _);
            var figure = Progress.Run($"heatmap {t.Name}", 1, t.ByteSize, done =>
            {
                var f = Plot.Heatmap(t);
                done(1);
                return f;
            });
            figure.Save(outPath);
            Console.Error.WriteLine($"wrote {outPath}");
            return ExitCode.Ok;
        }));
        return cmd;
    }
}
