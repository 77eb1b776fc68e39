using WeightScope.Analysis;
using WeightScope.Tensors;

namespace WeightScope.Plotting;

public static partial class Plot
{
    /// <summary>Largest number of cells drawn along either side; larger matrices are block-averaged down to this.</summary>
    public const int MaxHeatmapCells = 400;

    // Conv grids show at most this many output channels (rows) and input channels (columns).
    private const int MaxConvOut = 64, MaxConvIn = 16;

    /// <summary>
    /// A heatmap of a tensor's values in blue–white–red, centred on 0 with symmetric limits (±max |value|), with a colour
    /// bar. 2-D: rows × columns, block-averaged down to <see cref="MaxHeatmapCells"/> per side; 1-D: one row;
    /// 3-D and 4-D conv weights [out, in, (kh,) kw]: a grid of kernel tiles, one row per output channel and one
    /// column per input channel (up to 64 × 16), wrapped into side-by-side blocks when tall and narrow; higher ranks
    /// are shown as [dim0, rest]. NaN cells are grey.
    /// </summary>
    /// <param name="tensor">The tensor to draw.</param>
    /// <param name="title">The title; the tensor's name when null.</param>
    /// <param name="cancellationToken">Checked before each chunk of values read.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Figure Heatmap(TensorEntry tensor, string? title = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.ElementCount == 0) throw new ArgumentException($"{tensor.Name} has no elements to draw");
        var shape = tensor.Shape.ToArray();
        string subtitle = $"{tensor.DType.Name()} {tensor.Shape}";
        double[,] cells;
        string xLabel, yLabel;
        if (shape.Length is 3 or 4)
        {
            long o = shape[0], i = shape[1], kh = shape.Length == 4 ? shape[2] : 1, kw = shape[^1];
            cancellationToken.ThrowIfCancellationRequested();
            cells = ConvGrid(tensor.ToFloat32(), o, i, kh, kw, out var shown);
            subtitle += shown;
            (xLabel, yLabel) = ("input channel (dim 1)", "output channel (dim 0)");
        }
        else
        {
            long rows = shape.Length <= 1 ? 1 : shape[0];
            long cols = tensor.ElementCount / rows;
            cells = BlockAverage(tensor, rows, cols, out var fy, out var fx, cancellationToken);
            if (fy > 1 || fx > 1) subtitle += $", mean of {fy}x{fx} blocks";
            xLabel = shape.Length <= 1 ? $"index (0-{cols - 1})" : $"dim 1 (0-{cols - 1})";
            yLabel = shape.Length <= 1 ? "" : $"dim 0 (0-{rows - 1})";
        }
        return Draw(cells, title ?? tensor.Name, subtitle, xLabel, yLabel);
    }

    // Mean of each fy × fx block (NaN when a block has no finite value), streaming the values a chunk at a time. Each
    // axis is reduced on its own, so a wide [32, 11616] matrix keeps its 32 rows.
    private static double[,] BlockAverage(TensorEntry t, long rows, long cols, out long fy, out long fx, CancellationToken cancellationToken)
    {
        long factorY = fy = Math.Max(1, (rows + MaxHeatmapCells - 1) / MaxHeatmapCells);
        long factorX = fx = Math.Max(1, (cols + MaxHeatmapCells - 1) / MaxHeatmapCells);
        int r = (int)((rows + factorY - 1) / factorY), c = (int)((cols + factorX - 1) / factorX);
        var sums = new double[r, c];
        var counts = new long[r, c];
        TensorChunks.ForEach(t, (values, first) =>
        {
            for (int k = 0; k < values.Length; k++)
            {
                float v = values[k];
                if (!float.IsFinite(v)) continue;
                long index = first + k;
                int y = (int)(index / cols / factorY), x = (int)(index % cols / factorX);
                sums[y, x] += v;
                counts[y, x]++;
            }
        }, cancellationToken: cancellationToken);
        for (int y = 0; y < r; y++)
            for (int x = 0; x < c; x++) sums[y, x] = counts[y, x] > 0 ? sums[y, x] / counts[y, x] : double.NaN;
        return sums;
    }

    // Kernel tiles with one blank cell between them (NaN marks a gap, drawn as background).
    private static double[,] ConvGrid(float[] v, long outCh, long inCh, long kh, long kw, out string shown)
    {
        long o = Math.Min(outCh, MaxConvOut), i = Math.Min(inCh, MaxConvIn);
        shown = o < outCh || i < inCh ? $", showing out 0-{o - 1}, in 0-{i - 1}" : "";
        // Wrap the output channels into blocks side by side so the grid is roughly square.
        long tileH = kh + 1, tileW = kw + 1;
        int blocks = (int)Math.Clamp(Math.Round(Math.Sqrt((double)(o * tileH) / (i * tileW + 1))), 1, o);
        long perBlock = (o + blocks - 1) / blocks;
        blocks = (int)((o + perBlock - 1) / perBlock);
        long blockW = i * tileW + 1;
        var grid = new double[perBlock * tileH - 1, blocks * blockW - 2];
        for (int y = 0; y < grid.GetLength(0); y++)
            for (int x = 0; x < grid.GetLength(1); x++) grid[y, x] = double.PositiveInfinity; // gap marker
        for (long oc = 0; oc < o; oc++)
        {
            long bx = oc / perBlock * blockW, by = oc % perBlock * tileH;
            for (long ic = 0; ic < i; ic++)
                for (long y = 0; y < kh; y++)
                    for (long x = 0; x < kw; x++)
                        grid[by + y, bx + ic * tileW + x] = v[((oc * inCh + ic) * kh + y) * kw + x];
        }
        return grid;
    }

    private static Figure Draw(double[,] cells, string title, string subtitle, string xLabel, string yLabel)
    {
        int rows = cells.GetLength(0), cols = cells.GetLength(1);
        double limit = 0;
        foreach (double v in cells) if (double.IsFinite(v)) limit = Math.Max(limit, Math.Abs(v));
        if (limit == 0) limit = 1;

        // Square cells, scaled so the longer side is about 480 px; a very flat or very narrow matrix is stretched along
        // its short side (to 120 px, or 40 px for a single row) so it stays visible.
        int scale = Math.Clamp(480 / Math.Max(rows, cols), 1, 48);
        int imageW = cols * scale, imageH = rows * scale;
        if (imageH < 120) imageH = rows == 1 ? Math.Max(imageH, 40) : Math.Min(120, Math.Max(imageH, rows * Math.Max(1, 480 / rows)));
        if (imageW < 120) imageW = cols == 1 ? Math.Max(imageW, 40) : Math.Min(120, Math.Max(imageW, cols * Math.Max(1, 480 / cols)));
        var image = new Raster(cols, rows, Rgb.White);
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                image.Blend(x, y, double.IsPositiveInfinity(cells[y, x]) ? Rgb.White : ColorMaps.BlueWhiteRed(cells[y, x], limit));

        const int Left = 48, Top = 64, BarW = 16, BarGap = 24;
        int barH = Math.Max(imageH, 160);
        int titleW = Math.Max(BitmapFonts.Title.Measure(title), BitmapFonts.Regular.Measure(subtitle)) + 40;
        int width = Math.Max(Left + imageW + BarGap + BarW + 70, titleW);
        int height = Top + Math.Max(imageH, barH) + 44;
        var fig = new Figure(width, height, title);
        int imageX = Math.Max(Left, (width - (imageW + BarGap + BarW + 70)) / 2 + 20);
        fig.Text(width / 2.0, 26, title, TextAnchor.Middle, large: true);
        fig.Text(width / 2.0, 46, subtitle, TextAnchor.Middle, color: Muted);
        fig.Image(imageX, Top, imageW, imageH, image);
        fig.Rect(imageX - 1, Top - 1, imageW + 2, imageH + 2, Rgb.White, 0, Axis);
        fig.Text(imageX + imageW / 2.0, Top + imageH + 20, xLabel, TextAnchor.Middle, color: Muted);
        if (yLabel.Length > 0) fig.Text(imageX - 10, Top + imageH / 2.0, yLabel, TextAnchor.Middle, vertical: true, color: Muted);

        // Colour bar: limit at the top, -limit at the bottom, round ticks between.
        int barX = imageX + imageW + BarGap;
        var bar = new Raster(1, barH, Rgb.White);
        for (int y = 0; y < barH; y++) bar.Blend(0, y, ColorMaps.BlueWhiteRed(limit - 2 * limit * (y + 0.5) / barH, limit));
        fig.Image(barX, Top, BarW, barH, bar);
        fig.Rect(barX - 1, Top - 1, BarW + 2, barH + 2, Rgb.White, 0, Axis);
        var ticks = Ticks.Nice(-limit, limit, 5);
        var labels = Ticks.Labels(ticks);
        for (int k = 0; k < ticks.Length; k++)
        {
            double y = Math.Round(Top + (limit - ticks[k]) / (2 * limit) * (barH - 1));
            fig.Line(barX + BarW, y, barX + BarW + TickLength, y, Axis);
            fig.Text(barX + BarW + TickLength + 3, y + 4, labels[k]);
        }
        return fig;
    }
}
