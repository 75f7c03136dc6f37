# Handler cost per exit type: box = p25..p75, whiskers = p1..p99, thick
# bar = median, x = p90; the dashed line is the hardware exit round trip.
# Called by report.py:
#   gnuplot -e "data='...'; out='...'; n=CASES; floor=NS; floorlabel='...'" latency.gp
set terminal pngcairo size 1200,700 font "sans,10"
set output out
set title "hx handler cost per exit type: hv_handle_exit on the hosted optimised core (TSC, resolution about 10 ns)" noenhanced
set logscale y 10
set yrange [5:floor * 3]
set ylabel "ns per exit (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set xrange [0.3:n + 0.7]
set rmargin 8
set bmargin 7
set xtics rotate by -35 left nomirror noenhanced
set boxwidth 0.5
set style fill solid 0.35 border -1
set key top right box opaque
set datafile separator "\t"
set arrow from graph 0, first floor to graph 1, first floor nohead dt 2 lw 2 lc rgb "#c00000"
set label floorlabel at graph 0.02, first floor * 1.25 tc rgb "#c00000" noenhanced
plot data using 1:5:3:9:7:xtic(2) with candlesticks whiskerbars 0.5 lc rgb "#2060a0" title "p25-p75, whiskers p1-p99", \
     data using 1:6:6:6:6 with candlesticks lw 3 lc rgb "#000000" title "median", \
     data using 1:8 with points pt 2 ps 1 lc rgb "#404040" title "p90"
