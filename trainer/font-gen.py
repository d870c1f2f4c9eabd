#!/usr/bin/python3
# Regenerates trainer/font.h (needs ImageMagick and fonts-dejavu-core):
#   python3 trainer/font-gen.py trainer/font.h
import subprocess
W,H=7,13
rows=[]
for c in range(32,127):
    ch=chr(c)
    txt = ch if ch not in '\\%@' else {'\\':'\\\\','%':'%%','@':'\\@'}[ch]
    raw=subprocess.run(['convert','-size',f'{W}x{H}','xc:black','-font','DejaVu-Sans-Mono','-pointsize','11','-fill','white','-annotate','+0+9',txt,'-depth','8','gray:-'],capture_output=True,check=True).stdout
    assert len(raw)==W*H, (ch,len(raw))
    g=[]
    for y in range(H):
        v=0
        for x in range(W):
            if raw[y*W+x]>=100: v|=1<<(W-1-x)
        g.append(v)
    rows.append((c,g))
out=['/* font.h - a 7x13 bitmap font for the contact sheet\'s labels, ASCII 32..126.',
' * Generated from DejaVu Sans Mono 11 pt by trainer/font-gen.py (ImageMagick);',
' * each glyph is 13 rows, bit 6 the leftmost pixel. */',
'#ifndef TRAINER_FONT_H','#define TRAINER_FONT_H','','#define FONT_W 7','#define FONT_H 13','','static const unsigned char font_glyphs[95][FONT_H] = {']
for c,g in rows:
    out.append('  { '+', '.join('0x%02x'%v for v in g)+' }, /* %s */'%(repr(chr(c)) if chr(c)!='/' else "'/'"))
out+=['};','','#endif']
import sys; open(sys.argv[1] if len(sys.argv)>1 else 'trainer/font.h','w').write('\n'.join(out)+'\n')
