#!/usr/bin/env python3
"""Generate the style catalog: data/styles.tsv and product/styles_table.c.

Every style is written here by hand, per category, as
    English name | Chinese name | keywords
and turned into a prompt template by its category's pattern (every one
contains {prompt}, as in the A1111 web UI's styles.csv: "oil painting of
{prompt}, …", "{prompt}, serene mood, …"), plus the category's negative
prompt.
The "blend" category crosses a hand-picked list of moods with a hand-picked
list of painting media (English and Chinese names composed from the two
hand-written translations, e.g. "Dreamy Watercolor" / "梦幻水彩").

Columns of data/styles.tsv (UTF-8, tab-separated, header line):
    id  name_en  name_zh  category  prompt  negative_prompt
The same rows go to product/styles_table.c, the catalog compiled into the
library; tests/test_styles.c checks the two agree.

Run: python3 scripts/gen/gen_styles.py
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NEG_PAINT = "photo, photorealistic, 3d render, lowres, blurry, jpeg artifacts, watermark, text"
NEG_PHOTO = "painting, drawing, illustration, cartoon, anime, cgi, lowres, blurry, overexposed, watermark, text"
NEG_RENDER = "painting, sketch, photo grain, lowres, blurry, noisy, watermark, text"
NEG_GENERIC = "lowres, blurry, jpeg artifacts, deformed, watermark, text"
NEG_MATERIAL = "flat, 2d, drawing, lowres, blurry, watermark, text"

# category key: (Chinese category name, template, negative)
CATEGORIES = {
    "movement": ("艺术流派", "{prompt}, {name_l} style, {kw}", NEG_PAINT),
    "medium": ("绘画媒介", "{name_l} of {prompt}, {kw}", NEG_PAINT),
    "technique": ("绘画技法", "{prompt}, {name_l} technique, {kw}", NEG_PAINT),
    "material": ("材质", "{prompt} made of {name_l}, {kw}", NEG_MATERIAL),
    "photography": ("摄影风格", "{name_l} of {prompt}, {kw}", NEG_PHOTO),
    "lens": ("镜头与相机", "photo of {prompt}, {name_l}, {kw}", NEG_PHOTO),
    "lighting": ("光线", "{prompt}, {name_l}, {kw}", NEG_GENERIC),
    "palette": ("色彩", "{prompt}, {name_l} color palette, {kw}", NEG_GENERIC),
    "era": ("年代", "{prompt}, {name_l} aesthetic, {kw}", NEG_GENERIC),
    "genre": ("类型题材", "{prompt}, {name_l}, {kw}", NEG_GENERIC),
    "mood": ("情绪氛围", "{prompt}, {name_l} mood, {kw}", NEG_GENERIC),
    "culture": ("地域与传统", "{prompt}, {name_l}, {kw}", NEG_GENERIC),
    "design": ("设计与建筑", "{prompt}, {name_l}, {kw}", NEG_GENERIC),
    "digital": ("数字艺术", "{prompt}, {name_l}, {kw}", NEG_RENDER),
    "weather": ("天气与季节", "{prompt}, {name_l}, {kw}", NEG_GENERIC),
    "blend": ("混合风格", "{mood_l} {medium_l} of {prompt}, {mood_kw}, {medium_kw}", NEG_PAINT),
}

DATA = {}

DATA["movement"] = """
Impressionism|印象派|loose brushwork, broken color, plein air light
Post-Impressionism|后印象派|bold outlines, vivid color, expressive brushwork
Neo-Impressionism|新印象派|dots of pure color, optical mixing
Pointillism|点彩派|tiny dots of pure color, shimmering surface
Cubism|立体主义|fragmented geometric planes, multiple viewpoints
Analytical Cubism|分析立体主义|muted browns and greys, faceted planes
Synthetic Cubism|综合立体主义|flat collage shapes, bright color
Fauvism|野兽派|wild unnatural colors, bold flat brushwork
Expressionism|表现主义|distorted forms, emotional intense color
Abstract Expressionism|抽象表现主义|gestural paint, large energetic strokes
Surrealism|超现实主义|dreamlike impossible scene, melting forms
Dadaism|达达主义|absurd collage, anti-art humor
Futurism|未来主义|dynamic motion lines, speed and machines
Constructivism|构成主义|geometric shapes, red and black, bold typography
Suprematism|至上主义|floating basic geometric forms, white ground
De Stijl|风格派|primary colors, black grid lines, rectangles
Bauhaus|包豪斯|functional geometry, primary colors, clean forms
Art Nouveau|新艺术运动|flowing organic lines, floral ornament, elegant curves
Art Deco|装饰艺术|geometric glamour, gold and black, streamlined symmetry
Arts and Crafts Movement|工艺美术运动|handcrafted patterns, natural motifs
Baroque|巴洛克|dramatic chiaroscuro, rich detail, grandeur
Rococo|洛可可|pastel ornament, playful elegance, gilded curves
Renaissance|文艺复兴|balanced composition, classical anatomy, sfumato
High Renaissance|盛期文艺复兴|harmonious proportion, idealized figures
Mannerism|矫饰主义|elongated figures, artificial elegance
Gothic Art|哥特艺术|pointed arches, gold leaf, devotional figures
Byzantine Art|拜占庭艺术|gold mosaic background, flat holy figures
Romanticism|浪漫主义|sublime nature, dramatic sky, emotion
Neoclassicism|新古典主义|classical order, marble clarity, restraint
Realism|现实主义|everyday life, honest detail, natural light
Hyperrealism|超级写实主义|extreme detail, photographic precision
Photorealism|照相写实主义|painted photographic accuracy, crisp detail
Symbolism|象征主义|mystical allegory, dreamy symbols
Pre-Raphaelite|前拉斐尔派|vivid jewel colors, detailed nature, medieval romance
Tonalism|色调主义|soft atmospheric haze, muted tones
Luminism|光亮主义|calm glowing light, hidden brushstrokes
Hudson River School|哈德逊河画派|grand american landscape, golden light
Barbizon School|巴比松画派|rural landscape, earthy tones
Pop Art|波普艺术|bold flat colors, halftone dots, mass culture
Op Art|欧普艺术|optical illusion patterns, black and white rhythm
Minimalism|极简主义|minimal forms, negative space, restraint
Color Field|色域绘画|large fields of flat color, calm
Lyrical Abstraction|抒情抽象|soft gestural color, poetic abstraction
Orphism|奥费主义|overlapping color circles, rhythm
Vorticism|漩涡主义|sharp angular forms, machine energy
Precisionism|精确主义|clean industrial forms, sharp edges
Regionalism|地方主义|rural american scenes, rolling hills
Social Realism|社会现实主义|working people, dignified struggle
Socialist Realism|社会主义现实主义|heroic workers, optimistic poster composition
Magic Realism|魔幻现实主义|ordinary scene with uncanny calm detail
Neo-Expressionism|新表现主义|raw figurative paint, crude energy
Street Art|街头艺术|spray paint, stencils, urban wall
Graffiti|涂鸦艺术|wildstyle letters, spray paint drips, vivid colors
Lowbrow|低俗艺术|pop surrealism, cartoon imagery, glossy paint
Pop Surrealism|波普超现实主义|big-eyed characters, candy colors, uncanny
Psychedelic Art|迷幻艺术|swirling patterns, saturated neon colors
Kinetic Art|动态艺术|implied motion, moving parts
Conceptual Art|观念艺术|idea-driven, sparse composition
Land Art|大地艺术|earthworks, natural materials arranged in landscape
Naive Art|素人艺术|childlike simplicity, flat perspective, bright colors
Outsider Art|局外人艺术|raw untrained expression, obsessive patterns
Primitivism|原始主义|simplified forms, bold pattern
Metaphysical Painting|形而上画派|empty piazzas, long shadows, mannequins
Rayonism|辐射主义|intersecting rays of color
Tenebrism|暗色调主义|violent contrast of light and dark
Ashcan School|垃圾箱画派|gritty city life, dark palette
Vienna Secession|维也纳分离派|gold ornament, decorative patterns
Ukiyo-e Revival|新版画|woodblock print, soft gradients, poetic landscape
Zen Art|禅意艺术|empty space, single brushstroke, calm
Afrofuturism|非洲未来主义|african motifs, futuristic technology, vibrant colors
"""

DATA["medium"] = """
Oil Painting|油画|thick brushstrokes, rich layered color, canvas texture
Watercolor Painting|水彩画|transparent washes, soft bleeding edges, paper texture
Gouache Painting|水粉画|opaque matte color, flat shapes
Acrylic Painting|丙烯画|vivid saturated color, bold strokes
Tempera Painting|蛋彩画|fine hatching, luminous egg tempera
Fresco|湿壁画|plaster wall texture, muted earthy pigments
Encaustic Painting|蜡画|layered wax, translucent glow
Ink Drawing|墨水画|fine pen lines, black ink, cross-hatching
Pencil Sketch|铅笔素描|graphite lines, shading, sketchbook paper
Charcoal Drawing|炭笔画|smudged charcoal, deep blacks, expressive marks
Pastel Drawing|色粉画|soft chalky pastel, blended color
Oil Pastel Drawing|油画棒画|waxy strokes, bold texture
Crayon Drawing|蜡笔画|childlike waxy crayon strokes
Colored Pencil Drawing|彩色铅笔画|layered colored pencil, fine texture
Marker Illustration|马克笔插画|alcohol marker strokes, clean edges
Ballpoint Pen Drawing|圆珠笔画|blue ballpoint lines, dense hatching
Chalk Drawing|粉笔画|chalk on blackboard, dusty strokes
Sidewalk Chalk Art|街头粉笔画|colorful chalk on pavement
Woodcut Print|木刻版画|carved wood grain lines, bold black and white
Linocut Print|麻胶版画|bold carved shapes, limited colors
Etching|蚀刻版画|fine etched lines, intaglio texture
Engraving|雕版画|precise burin lines, cross-hatching
Lithograph|石版画|grainy crayon texture, soft tones
Screen Print|丝网版画|flat layered inks, slight misregistration
Risograph Print|孔版印刷|grainy spot colors, misregistration, fluorescent pink
Mezzotint|美柔汀版画|velvety blacks, soft tonal gradation
Monotype Print|独幅版画|painterly single print, unique texture
Cyanotype|蓝晒|prussian blue print, white silhouettes
Mosaic|马赛克镶嵌画|small tiles, grout lines, mosaic pattern
Stained Glass|彩色玻璃画|leaded glass panels, glowing colors
Collage|拼贴画|cut paper pieces, mixed imagery
Mixed Media|综合媒介|layered materials, textured collage and paint
Spray Paint Art|喷漆画|spray paint gradients, stencil edges
Airbrush Painting|喷笔画|smooth airbrushed gradients, retro gloss
Digital Painting|数字绘画|painterly digital brushes, concept art finish
Vector Illustration|矢量插画|clean vector shapes, flat colors
Line Art|线稿|clean outlines, no shading
Silhouette Art|剪影画|solid black silhouettes, bright background
Scratchboard|刮画|white lines scratched from black surface
Sand Painting|沙画|colored sand, granular texture
Batik|蜡染|wax resist dye, crackle lines, indigo
Tapestry|挂毯|woven threads, medieval textile
Embroidery Art|刺绣画|stitched threads, embroidery hoop texture
Cross-Stitch|十字绣|grid of x stitches, pixel-like pattern
Quilt Art|拼布艺术|patchwork fabric pieces, stitching
Tattoo Flash|纹身图稿|bold outlines, solid fills, tattoo flash sheet
Illuminated Manuscript|泥金手抄本|gold leaf, ornate borders, medieval lettering
Blueprint|蓝图|white technical lines on blue paper
Technical Drawing|工程制图|precise orthographic lines, annotations
Infographic|信息图|clean icons, diagrams, flat design
"""

DATA["technique"] = """
Impasto|厚涂法|thick raised paint, palette knife ridges
Palette Knife|刮刀画法|bold knife strokes, textured paint
Sfumato|晕涂法|soft smoky transitions, no hard edges
Chiaroscuro|明暗对照法|strong contrast of light and shadow
Glazing|罩染法|thin transparent layers, luminous depth
Scumbling|薄涂法|broken opaque layer, soft haze
Wet on Wet|湿画法|soft blooming color, blended edges
Dry Brush|干笔法|scratchy broken strokes, texture
Alla Prima|直接画法|fresh single-session strokes
Grisaille|灰色单色画法|monochrome grey underpainting
Trompe l'oeil|错视画法|illusionistic realism, fool the eye
Anamorphosis|变形透视法|distorted perspective illusion
Cross-Hatching|交叉排线|layered crossing lines for shading
Stippling|点描法|shading built from tiny dots
Hatching|排线法|parallel lines for tone
Contour Drawing|轮廓线描|single continuous outline
Blind Contour|盲画轮廓|wobbly continuous line
Gesture Drawing|速写动态|quick expressive lines, movement
Sgraffito|刮刻法|scratched layers revealing color beneath
Pouring|流体浇注法|fluid acrylic cells, marbled color
Marbling|大理石纹染|swirling marbled paper patterns
Splatter|泼溅法|paint splatters and drips
Drip Painting|滴画法|layered drips, energetic chaos
Sumi Ink Splash|泼墨法|splashed ink, spontaneous forms
Gold Leaf Gilding|贴金箔|shimmering gold leaf accents
Underpainting|底色法|warm underpainting showing through
Tenebrism Lighting|暗色调画法|figures emerging from darkness
Atmospheric Perspective|空气透视|distant forms fade into haze
Foreshortening|短缩透视|dramatic depth, extreme angle
Color Blocking|色块法|flat blocks of bold color
Halftone|网点|printed halftone dots
Crosshatched Ink Wash|墨线淡彩|ink lines with light washes
Double Line Outline|双勾法|paired contour lines, gongbi outlining
Boneless Painting|没骨法|color without outlines, soft forms
Blown Ink|吹墨法|ink branches blown across paper
"""

DATA["material"] = """
Porcelain|瓷器|glossy glaze, fine ceramic
Blue and White Porcelain|青花瓷|cobalt blue patterns on white porcelain
Celadon|青瓷|pale jade green glaze, crackle
Terracotta|赤陶|warm unglazed clay, matte
Clay|黏土|soft modeled clay, fingerprints
Plasticine|橡皮泥|bright plasticine, handmade look
Polymer Clay|软陶|miniature polymer clay, cute details
Glass|玻璃|transparent glass, refraction, caustics
Crystal|水晶|faceted crystal, sparkling refraction
Ice|冰|carved ice, frosty translucent
Snow|雪|packed snow sculpture, soft white
Sand|沙|sand sculpture, granular detail
Marble|大理石|white marble sculpture, veined stone
Granite|花岗岩|speckled granite, carved stone
Jade|玉石|carved green jade, smooth translucent
Bronze|青铜|patinated bronze sculpture
Gold|黄金|polished gold, reflective luxury
Silver|白银|polished silver, cool reflections
Copper|紫铜|burnished copper, verdigris
Rusted Iron|锈铁|rusty corroded iron, orange flakes
Chrome|镀铬|mirror chrome, reflective
Brushed Steel|拉丝钢|brushed metal, fine grain
Wood Carving|木雕|carved wood, visible grain
Bamboo|竹子|woven bamboo, natural fibers
Paper Cut|剪纸|layered paper cutout, shadows between layers
Origami|折纸|folded paper, crisp creases
Papier-mache|纸浆塑型|papier mache texture, handmade
Cardboard|纸板|corrugated cardboard, handmade craft
Felt|毛毡|needle felted wool, fuzzy texture
Knitted Wool|针织毛线|knitted yarn, cozy stitches
Crochet|钩针编织|crocheted yarn, amigurumi
Embroidered Fabric|刺绣织物|embroidered threads on fabric
Leather|皮革|tooled leather, stitching
Silk|丝绸|flowing silk, sheen
Velvet|天鹅绒|soft velvet, deep color
Lace|蕾丝|delicate lace patterns
Denim|牛仔布|denim fabric, stitching
Toy Bricks|积木|plastic toy bricks, studs
Plastic Toy|塑料玩具|glossy plastic toy, vinyl figure
Vinyl Figure|搪胶公仔|collectible vinyl figure, smooth
Resin|树脂|clear epoxy resin, embedded objects
Wax|蜡|melting candle wax, translucent
Chocolate|巧克力|glossy chocolate, cocoa
Candy|糖果|hard candy, translucent sugar
Cake Frosting|奶油蛋糕|piped frosting, pastry
Fruit|水果|fresh fruit pieces, colorful
Flowers|鲜花|fresh petals and blossoms
Leaves|树叶|layered autumn leaves
Moss|苔藓|soft green moss
Smoke|烟雾|swirling wisps of smoke
Fire|火焰|flames, glowing embers
Water|水|splashing liquid, droplets
Clouds|云朵|fluffy cumulus clouds
Light|光|glowing light trails
Neon Tubes|霓虹灯管|bent neon tubes, glowing
Circuit Board|电路板|printed circuit traces, microchips
Holographic Foil|全息箔|iridescent holographic film
Mother of Pearl|珍珠母|iridescent nacre inlay
Lacquer|漆器|red and black lacquer, glossy
Cloisonne|景泰蓝|cloisonne enamel, gold wire cells
"""

DATA["photography"] = """
35mm Film Photograph|35毫米胶片照片|film grain, natural colors, analog
Medium Format Photograph|中画幅照片|shallow depth of field, rich tonality
Large Format Photograph|大画幅照片|extreme detail, tilt movements
Instant Film Photograph|拍立得照片|instant film frame, faded colors
Black and White Photograph|黑白照片|monochrome, strong contrast, silver gelatin
Sepia Photograph|棕褐色老照片|sepia toned, antique print
Daguerreotype|达盖尔银版照片|silvery mirror plate, 1840s portrait
Tintype|锡版照片|wet plate, dark edges, antique
Wet Plate Collodion Photograph|湿版火棉胶照片|collodion artifacts, silvery tones
Cinematic Still|电影剧照|anamorphic, color graded, film still
Street Photograph|街头摄影|candid moment, urban life
Documentary Photograph|纪实摄影|honest reportage, natural light
Photojournalism Photograph|新闻摄影|decisive moment, raw
Fashion Photograph|时尚摄影|editorial, studio lighting, glamorous
Portrait Photograph|人像摄影|85mm, soft background, catchlights
Product Photograph|产品摄影|clean studio backdrop, crisp detail
Food Photograph|美食摄影|appetizing, shallow focus, natural light
Architectural Photograph|建筑摄影|straight verticals, wide angle
Landscape Photograph|风光摄影|wide vista, sharp foreground to horizon
Wildlife Photograph|野生动物摄影|telephoto, natural habitat
Macro Photograph|微距摄影|extreme close-up, tiny details
Astrophotograph|天文摄影|milky way, starry night sky
Aerial Photograph|航拍照片|drone view from above
Underwater Photograph|水下摄影|caustics, blue water, bubbles
Sports Photograph|体育摄影|frozen action, fast shutter
Night Photograph|夜景摄影|city lights, long exposure
Long Exposure Photograph|长曝光照片|silky water, light trails
Double Exposure Photograph|双重曝光照片|overlaid silhouettes, blended images
Infrared Photograph|红外照片|white foliage, surreal tones
Thermal Image|热成像|false color heat map
X-ray Image|X光片|translucent bones, x-ray
Tilt-Shift Photograph|移轴摄影|miniature effect, selective focus
Fisheye Photograph|鱼眼照片|circular distortion, extreme wide
Lomography Photograph|LOMO照片|vignetting, saturated cross-processed colors
Cross-Processed Photograph|交叉冲洗照片|shifted colors, high contrast
Light Painting Photograph|光绘摄影|glowing light trails drawn in the dark
High-Speed Photograph|高速摄影|frozen splash, crisp droplets
Bokeh Photograph|虚化光斑摄影|creamy bokeh balls, shallow focus
Selfie Photograph|自拍照|smartphone selfie, arm's length
Security Camera Footage|监控画面|grainy cctv, timestamp
Paparazzi Photograph|狗仔偷拍|flash, telephoto, candid
Holga Photograph|霍尔加照片|toy camera, light leaks, soft focus
Pinhole Photograph|针孔照片|soft dreamy focus, deep vignette
Stereoscopic Photograph|立体照片|vintage stereo card
Fine Art Nude Study|人体艺术摄影|tasteful, sculptural light, monochrome
"""

DATA["lens"] = """
Fisheye Lens|鱼眼镜头|180 degree distortion
Ultra Wide Lens 14mm|14毫米超广角镜头|14mm, dramatic perspective
Wide Angle Lens 24mm|24毫米广角镜头|24mm, expansive view
35mm Lens|35毫米镜头|35mm, natural street perspective
50mm Lens|50毫米标准镜头|50mm, natural perspective
85mm Portrait Lens|85毫米人像镜头|85mm, creamy bokeh, flattering
135mm Lens|135毫米镜头|135mm, compressed background
Telephoto Lens 200mm|200毫米长焦镜头|200mm, strong compression
Super Telephoto Lens|超长焦镜头|600mm, distant subject isolated
Macro Lens|微距镜头|1:1 magnification, tiny detail
Tilt-Shift Lens|移轴镜头|selective focus plane
Anamorphic Lens|变形宽银幕镜头|oval bokeh, horizontal flares
Soft Focus Lens|柔焦镜头|dreamy glow, soft highlights
Vintage Lens|老镜头|swirly bokeh, low contrast
Petzval Lens|佩兹伐镜头|swirling bokeh, sharp center
Prime Lens f/1.2|f/1.2大光圈定焦|f/1.2, razor thin depth of field
Aperture f/1.8|f/1.8光圈|f/1.8, soft background blur
Aperture f/8|f/8光圈|f/8, sharp throughout
Aperture f/16|f/16小光圈|f/16, deep focus, sunstars
Shallow Depth of Field|浅景深|subject sharp, background blurred
Deep Focus|深焦|everything in focus
Full Frame DSLR|全画幅单反|full frame, high dynamic range
Mirrorless Camera|无反相机|crisp modern digital
Medium Format Camera|中画幅相机|medium format sensor, smooth tonality
Rangefinder Camera|旁轴相机|rangefinder, candid framing
Point and Shoot Camera|傻瓜相机|direct flash, snapshot
Disposable Camera|一次性相机|flash, grain, casual snapshot
Smartphone Camera|手机相机|smartphone photo, computational HDR
Action Camera|运动相机|wide distortion, immersive pov
Drone Camera|无人机相机|top-down aerial view
Webcam|网络摄像头|low resolution webcam, compression
Camcorder Footage|家用摄像机画面|90s camcorder, interlaced, date stamp
Super 8 Film|超8胶片|super 8 grain, warm home movie
16mm Film|16毫米胶片|16mm grain, documentary feel
IMAX Film|IMAX胶片|huge format, crisp detail, epic
"""

DATA["lighting"] = """
Golden Hour Light|黄金时刻光线|warm low sun, long shadows
Blue Hour Light|蓝调时刻光线|cool twilight, soft blue tones
Midday Sun|正午阳光|harsh overhead sun, hard shadows
Overcast Light|阴天散射光|soft diffused light, no shadows
Backlighting|逆光|subject backlit, glowing edges
Rim Light|轮廓光|bright rim around the subject
Rembrandt Lighting|伦勃朗光|triangle of light on cheek, moody
Butterfly Lighting|蝴蝶光|glamour key light from above
Split Lighting|侧光分割|half face lit, dramatic
Loop Lighting|环形光|soft loop shadow, flattering
Softbox Studio Lighting|柔光箱影棚光|soft even studio light
Ring Light|环形灯|even frontal light, ring catchlights
Hard Flash|硬闪光|direct flash, harsh shadow
Low Key Lighting|低调布光|mostly dark, deep shadows
High Key Lighting|高调布光|bright, minimal shadows
Volumetric Lighting|体积光|god rays, light shafts through haze
Crepuscular Rays|耶稣光|sun rays through clouds
Candlelight|烛光|warm flickering candle glow
Firelight|火光|orange flicker of a campfire
Lantern Light|灯笼光|warm lantern glow
Moonlight|月光|cool silver moonlight
Starlight|星光|faint starlit night
Neon Lighting|霓虹灯光|pink and cyan neon glow, reflections
Bioluminescence|生物荧光|glowing organisms, blue green light
Underwater Caustics|水下焦散光|rippling light patterns
Dappled Sunlight|斑驳阳光|light through leaves
Window Light|窗光|soft side light from a window
Spotlight|聚光灯|single hard spotlight, dark surroundings
Stage Lighting|舞台灯光|colored stage spots, haze
Concert Lighting|演唱会灯光|lasers, colored beams
Cinematic Lighting|电影感布光|motivated light, color contrast
Teal and Orange Lighting|青橙布光|teal shadows, orange highlights
Colored Gel Lighting|彩色滤光灯|magenta and blue gels
Blacklight|黑光灯|uv glow, fluorescent colors
Aurora Light|极光光线|green aurora glow in the sky
Lightning Flash|闪电光|sudden lightning illumination
Foggy Light|雾中光线|soft glow diffused by fog
Sunset Glow|夕阳余晖|red and orange sky glow
Sunrise Light|晨光|fresh pink dawn light
Twilight|暮光|fading dusk light
Street Lamp Light|路灯光|sodium orange street lamps
Fluorescent Light|日光灯|cold green fluorescent tubes
Screen Glow|屏幕光|face lit by a screen in the dark
Firefly Light|萤火虫光|tiny floating lights
Global Illumination|全局光照|soft bounced light, realistic
Subsurface Scattering|次表面散射|light glowing through skin and wax
Chiaroscuro Lighting|明暗对比光|strong light dark contrast
Silhouette Lighting|剪影光|subject dark against bright background
Hazy Sunlight|朦胧阳光|soft hazy sun, low contrast
Bounce Light|反射补光|soft bounced fill light
"""

DATA["palette"] = """
Pastel|粉彩色调|soft pastel colors, light and airy
Monochrome|单色调|single hue, tonal variation
Black and White|黑白色调|grayscale, no color
Sepia Tone|棕褐色调|warm brown antique tones
Duotone|双色调|two-color print
Teal and Orange|青橙色调|teal shadows, orange skin tones
Neon Colors|霓虹色|glowing saturated neon
Earth Tones|大地色|browns, ochres, olive greens
Jewel Tones|宝石色|emerald, sapphire, ruby
Muted Colors|低饱和色调|desaturated, subtle
Vibrant Colors|鲜艳色彩|highly saturated, bold
Warm Colors|暖色调|reds, oranges, yellows
Cool Colors|冷色调|blues, greens, purples
Complementary Colors|互补色|opposing hues, strong contrast
Analogous Colors|类似色|neighboring hues, harmony
Triadic Colors|三元色|three evenly spaced hues
Primary Colors|三原色|red, yellow, blue
Candy Colors|糖果色|sweet pink, mint, lemon
Autumn Palette|秋日色调|rust, amber, burgundy
Winter Palette|冬日色调|icy blue, white, silver
Spring Palette|春日色调|fresh greens, blossom pink
Summer Palette|夏日色调|bright turquoise, sunny yellow
Gold and Black|黑金配色|luxurious gold on black
Red and Black|红黑配色|dramatic red and black
Blue and Gold|蓝金配色|royal blue and gold
Pink and Blue|粉蓝配色|cotton candy pink and blue
Purple and Orange|紫橙配色|twilight purple and orange
Green and Gold|绿金配色|emerald and gold
Rainbow Colors|彩虹色|full spectrum rainbow
Iridescent|虹彩色|shifting oil-slick colors
Holographic Colors|全息色彩|chrome rainbow sheen
Faded Colors|褪色色调|washed out, vintage fade
Bleach Bypass|漂白旁路色调|low saturation, high contrast
Technicolor|特艺彩色|saturated vintage film color
Kodachrome Colors|柯达克罗姆色彩|rich reds, deep blues, vintage slide
Cyberpunk Palette|赛博朋克配色|magenta, cyan, dark blue
Vaporwave Palette|蒸汽波配色|pink, purple, teal gradients
Chinese Red|中国红|vermilion red and gold
Indigo Blue|靛蓝|deep indigo dye
Ink Wash Grey|水墨灰|shades of black ink on white
Morandi Colors|莫兰迪色|greyed soft colors, calm
Forest Greens|森林绿|deep greens, moss
Ocean Blues|海洋蓝|aqua, navy, turquoise
Desert Sand|沙漠色|sand, terracotta, dusty rose
Monochrome Red|单色红|shades of red only
"""

DATA["era"] = """
1900s|1900年代|edwardian, early photography
1910s|1910年代|belle epoque, early cinema
1920s|1920年代|roaring twenties, jazz age, art deco
1930s|1930年代|depression era, streamline moderne
1940s|1940年代|wartime, film noir, swing
1950s|1950年代|mid-century, atomic age, diners
1960s|1960年代|mod, space age, psychedelic
1970s|1970年代|disco, earthy tones, film grain
1980s|1980年代|neon, synth, vhs, bold shapes
1990s|1990年代|grunge, pop culture, disposable camera
2000s|2000年代|y2k, glossy tech, early digital camera
2010s|2010年代|instagram filters, hipster
Y2K|千禧风|chrome, bubble fonts, iridescent
Victorian Era|维多利亚时代|ornate, gaslight, corsets
Edwardian Era|爱德华时代|elegant, early 1900s
Georgian Era|乔治王时代|regency elegance, candlelit
Regency Era|摄政时期|empire waist gowns, drawing rooms
Elizabethan Era|伊丽莎白时代|ruffs, tudor architecture
Medieval|中世纪|castles, knights, manuscripts
Viking Age|维京时代|longships, runes, furs
Ancient Egypt|古埃及|hieroglyphs, pyramids, gold
Ancient Greece|古希腊|marble temples, columns, amphorae
Ancient Rome|古罗马|forum, togas, mosaics
Mesopotamia|美索不达米亚|ziggurats, cuneiform reliefs
Stone Age|石器时代|cave paintings, stone tools
Bronze Age|青铜时代|bronze tools, early cities
Belle Epoque|美好年代|parisian elegance, gaslit cafes
Wild West|狂野西部|frontier towns, cowboys, dust
Industrial Revolution|工业革命|factories, smokestacks, iron
Atomic Age|原子时代|retro futurism, chrome, fins
Space Age|太空时代|rockets, bubble helmets, optimism
Dot-com Era|互联网泡沫时代|early web, crt monitors
Xia Shang Zhou|夏商周|bronze vessels, oracle bones
Qin Dynasty|秦朝|terracotta army, ancient chinese
Han Dynasty|汉朝|han robes, ancient chinese palace
Tang Dynasty|唐朝|tang court, rich colors, flowing robes
Song Dynasty|宋朝|refined elegance, ink landscapes
Yuan Dynasty|元朝|mongol court, grasslands
Ming Dynasty|明朝|ming porcelain, red palace walls
Qing Dynasty|清朝|qing court, embroidered robes
Republic of China Era|民国时期|1930s shanghai, qipao, old posters
Heian Period|平安时代|japanese court, layered kimonos
Edo Period|江户时代|edo streets, samurai, ukiyo-e
Meiji Era|明治时代|east meets west, early modern japan
Joseon Dynasty|朝鲜王朝|hanbok, korean palace
"""

DATA["genre"] = """
Anime|日本动画|anime style, cel shading, expressive eyes
Manga|日本漫画|black and white manga, screentone
Chibi|Q版|cute super deformed proportions
Shoujo Manga|少女漫画|sparkles, flowers, delicate lines
Shonen Manga|少年漫画|dynamic action lines, bold
Comic Book|美式漫画|bold inks, halftone, superhero comic
Graphic Novel|图像小说|moody inked panels
Webtoon|条漫|clean digital webtoon coloring
Cartoon|卡通|simple shapes, bold outlines
Saturday Morning Cartoon|周六早间卡通|bright 90s tv cartoon
Disney Style Animation|迪士尼风格动画|classic hand-drawn animation, expressive
Studio Ghibli Style|吉卜力风格|lush hand-painted backgrounds, gentle
Pixar Style|皮克斯风格|3d animated film, appealing characters
Claymation|黏土动画|stop motion clay figures
Stop Motion|定格动画|handmade puppets, miniature sets
Children's Book Illustration|儿童绘本插画|gentle watercolor, whimsical
Storybook Illustration|故事书插画|classic fairy tale illustration
Fantasy Art|奇幻艺术|epic fantasy, magic, detailed
Dark Fantasy|黑暗奇幻|grim, gothic, ominous
High Fantasy|史诗奇幻|elves, castles, grand vistas
Sword and Sorcery|剑与魔法|barbarian heroes, pulp fantasy
Science Fiction|科幻|futuristic technology, spaceships
Space Opera|太空歌剧|vast starships, alien worlds
Cyberpunk|赛博朋克|neon city, rain, high tech low life
Steampunk|蒸汽朋克|brass gears, steam machines, victorian
Dieselpunk|柴油朋克|diesel machines, 1940s industrial
Solarpunk|太阳朋克|green utopia, solar panels, gardens
Biopunk|生物朋克|organic technology, biotech labs
Post-Apocalyptic|末日废土|ruins, overgrown, survivors
Horror|恐怖|dark, unsettling, eerie shadows
Cosmic Horror|克苏鲁恐怖|eldritch tentacles, incomprehensible scale
Gothic Horror|哥特恐怖|castles, candles, dread
Film Noir|黑色电影|black and white, hard shadows, detective
Neo-Noir|新黑色电影|neon noir, rain, moody
Western|西部片|desert, cowboys, sunset
Wuxia|武侠|martial heroes, flowing robes, bamboo forest
Xianxia|仙侠|immortals, floating mountains, clouds
Mecha|机甲|giant robots, mechanical detail
Kaiju|怪兽|giant monster, city scale
Superhero|超级英雄|heroic pose, capes, dynamic
Fairy Tale|童话|enchanted forest, castles, magic
Mythology|神话|gods and legends, epic
Concept Art|概念设计|production concept art, painterly
Character Design Sheet|角色设定图|turnaround, multiple poses, white background
Book Cover|书籍封面|dramatic cover art, title space
Movie Poster|电影海报|dramatic composition, cinematic
Album Cover|专辑封面|bold square composition
Propaganda Poster|宣传海报|bold slogans style, heroic figures
Travel Poster|旅行海报|vintage travel poster, flat colors
Pin-up|海报女郎|retro pin-up illustration
Trading Card Art|卡牌插画|fantasy card illustration, ornate frame
Tarot Card|塔罗牌|ornate tarot card, symbolic
Video Game Art|游戏美术|game key art, polished
Visual Novel|视觉小说|anime character sprite, background art
Fashion Illustration|时装插画|elongated figures, loose marker strokes
"""

DATA["mood"] = """
Serene|宁静|calm, peaceful, tranquil
Melancholic|忧郁|wistful, sad, quiet
Whimsical|奇趣|playful, imaginative, quirky
Dreamy|梦幻|soft, ethereal, hazy
Ethereal|空灵|otherworldly, delicate light
Eerie|诡异|unsettling, uncanny, quiet dread
Ominous|不祥|threatening, dark clouds
Epic|史诗|grand scale, heroic, awe
Majestic|壮丽|grand, noble, sweeping
Cozy|温馨|warm, comfortable, inviting
Romantic|浪漫|tender, soft glow, love
Nostalgic|怀旧|wistful memories, faded warmth
Mysterious|神秘|hidden, shadowy, intriguing
Joyful|欢快|happy, bright, lively
Energetic|活力|dynamic, vibrant, motion
Peaceful|平和|gentle, restful
Lonely|孤独|solitary figure, empty space
Hopeful|希望|uplifting light, optimism
Tense|紧张|suspense, tight framing
Chaotic|混乱|busy, frantic, disorder
Surreal|超现实|dreamlike, strange juxtapositions
Gloomy|阴郁|overcast, dreary, muted
Festive|节日|celebration, lights, decorations
Playful|俏皮|fun, bouncy, cheerful
Elegant|优雅|refined, graceful
Gritty|粗粝|rough, dirty, raw
Heroic|英勇|triumphant, bold pose
Tranquil|恬静|still water, quiet
Haunting|萦绕|ghostly, lingering
Mystical|神秘玄幻|magical aura, arcane
Sublime|崇高|overwhelming nature, awe
Bittersweet|苦乐参半|tender sadness, warm light
Contemplative|沉思|quiet reflection, stillness
Dramatic|戏剧性|strong contrast, intensity
Innocent|纯真|pure, childlike, soft
Rebellious|叛逆|defiant, punk energy
Luxurious|奢华|opulent, rich materials
Minimal Calm|极简静谧|sparse, quiet, balanced
Spooky|阴森|halloween, creepy fun
Magical|魔幻|sparkles, enchantment
Zen|禅意|balance, emptiness, stillness
Uplifting|振奋|bright, inspiring
Somber|肃穆|grave, dignified, muted
Feverish|狂热|intense heat, delirium
Lazy Afternoon|慵懒午后|warm slow afternoon, relaxed
"""

DATA["culture"] = """
Chinese Ink Wash Painting|中国水墨画|sumi ink, xuan paper, flowing brush, empty space
Gongbi Painting|工笔画|fine meticulous lines, mineral colors, silk
Shan Shui Landscape|山水画|mountains and water, misty peaks, ink
Bird and Flower Painting|花鸟画|birds and blossoms, delicate brushwork
Chinese Calligraphy Art|书法艺术|brush calligraphy strokes, ink
Chinese Paper Cutting|中国剪纸|red paper cut, symmetrical patterns
Chinese New Year Painting|年画|auspicious folk woodblock, bright colors
Dunhuang Mural|敦煌壁画|flying apsaras, mineral pigments, cave mural
Peking Opera|京剧|painted opera masks, ornate costumes
Chinese Shadow Puppetry|皮影戏|translucent leather puppets, backlit
Blue Calico|蓝印花布|indigo resist print, white patterns
Chinese Garden|中式园林|pavilions, moon gates, rockeries
Guochao|国潮|modern chinese trend, bold traditional motifs
Ukiyo-e|浮世绘|japanese woodblock print, flat color, bold outlines
Sumi-e|日本墨绘|japanese ink painting, minimal strokes
Nihonga|日本画|mineral pigments, gold leaf, japanese painting
Wabi-sabi|侘寂|imperfect, weathered, natural
Kintsugi|金缮|gold repaired cracks
Japanese Zen Garden|枯山水|raked gravel, stones, moss
Korean Minhwa|韩国民画|folk painting, tigers and magpies
Indian Miniature Painting|印度细密画|mughal miniature, fine detail, gold
Madhubani Painting|马杜巴尼画|bold outlines, filled patterns, folk
Warli Art|瓦尔利艺术|white stick figures on mud brown
Persian Miniature|波斯细密画|intricate patterns, flat perspective
Islamic Geometric Art|伊斯兰几何艺术|interlacing geometric patterns, tiles
Moroccan Zellige|摩洛哥马赛克瓷砖|glazed geometric tiles
Ottoman Iznik Style|奥斯曼伊兹尼克风格|cobalt and turquoise floral tiles
Russian Lacquer Art|俄罗斯漆画|palekh miniature, black lacquer, gold
Russian Folk Art|俄罗斯民间艺术|khokhloma red and gold ornament
Scandinavian Folk Art|北欧民间艺术|rosemaling, simple florals
Celtic Art|凯尔特艺术|knotwork, spirals, illuminated
Norse Art|北欧古代艺术|runic carvings, interlaced beasts
Aboriginal Dot Painting|澳洲原住民点画|dot patterns, earth colors
Maori Art|毛利艺术|koru spirals, carved patterns
Polynesian Tattoo Art|波利尼西亚纹身艺术|tribal black patterns
African Kente Pattern|非洲肯特布纹样|woven geometric strips, bright colors
Ndebele Painting|恩德贝勒彩绘|bold geometric house painting
Ancient Egyptian Art|古埃及艺术|profile figures, hieroglyphs, registers
Mayan Art|玛雅艺术|stone glyph reliefs
Aztec Art|阿兹特克艺术|codex style, bold colors
Mexican Folk Art|墨西哥民间艺术|alebrijes, bright patterns
Day of the Dead|亡灵节|sugar skulls, marigolds, candles
Talavera Pottery|塔拉韦拉陶器|blue and white mexican tiles
Native American Beadwork|美洲原住民珠绣|beaded geometric patterns
Pennsylvania Dutch Hex Signs|宾州荷兰人符号画|folk rosettes
Greek Pottery Painting|希腊陶绘|black figure pottery, meander border
Roman Fresco|罗马壁画|pompeii red walls, fresco
Byzantine Icon|拜占庭圣像|gold background, flat saints
Tibetan Thangka|唐卡|buddhist thangka, mineral colors, mandala
Balinese Painting|巴厘岛绘画|dense detailed scenes, folk
"""

DATA["design"] = """
Flat Design|扁平化设计|flat shapes, no gradients, clean
Material Design|材料设计|paper layers, subtle shadows
Skeuomorphism|拟物化设计|realistic textures, glossy icons
Neumorphism|新拟态|soft extruded shapes, pale
Glassmorphism|玻璃拟态|frosted glass panels, blur
Swiss Design|瑞士设计|grid layout, helvetica style, clean
Memphis Design|孟菲斯设计|squiggles, bold patterns, 80s
Mid-Century Modern|中世纪现代风格|teak furniture, organic shapes
Scandinavian Interior|北欧风室内|light wood, white, cozy minimal
Japandi Interior|日式北欧风|japanese and scandinavian minimal
Industrial Interior|工业风室内|exposed brick, steel, concrete
Bohemian Interior|波西米亚风室内|plants, rugs, eclectic
Farmhouse Interior|农舍风室内|rustic wood, white shiplap
Brutalist Architecture|粗野主义建筑|raw concrete, massive forms
Gothic Architecture|哥特式建筑|pointed arches, flying buttresses
Art Deco Architecture|装饰艺术建筑|geometric facades, gilded
Modernist Architecture|现代主义建筑|glass and steel, clean lines
Parametric Architecture|参数化建筑|flowing curves, computational
Deconstructivism|解构主义建筑|fragmented angular forms
Victorian Architecture|维多利亚式建筑|ornate gables, painted lady houses
Classical Chinese Architecture|中国古典建筑|curved roofs, wooden brackets, red pillars
Hui-style Architecture|徽派建筑|white walls, black tiles, horse-head walls
Japanese Architecture|日式建筑|timber, shoji screens, tatami
Islamic Architecture|伊斯兰建筑|domes, arches, muqarnas
Mediterranean Architecture|地中海建筑|whitewashed walls, blue domes
Futuristic Architecture|未来主义建筑|sleek curves, megastructures
Treehouse Architecture|树屋建筑|wooden platforms in trees
Isometric Room|等距房间|isometric cutaway room, cute
Architectural Sketch|建筑草图|loose pen sketch, perspective lines
Architectural Visualization|建筑效果图|photoreal render, clean
Interior Design Render|室内设计效果图|styled interior, soft daylight
Logo Design|标志设计|simple vector mark, centered
Sticker Design|贴纸设计|die-cut sticker, white border
Emoji|表情符号|emoji style, glossy round
App Icon|应用图标|rounded square icon, glossy
Poster Design|海报设计|bold typography layout
Typography Art|字体艺术|letterforms as art
Packaging Design|包装设计|product package mockup
Fashion Lookbook|时装画册|editorial outfits, clean backdrop
Jewelry Design|珠宝设计|gemstones, fine metalwork
Tattoo Design|纹身设计|tattoo stencil, clean linework
Pattern Design|图案设计|seamless repeating pattern
Wallpaper Pattern|壁纸纹样|decorative repeating wallpaper
Mandala|曼陀罗|radial symmetric pattern
Heraldry|纹章|coat of arms, shields, crests
"""

DATA["digital"] = """
Pixel Art|像素艺术|16-bit sprites, limited palette
8-bit Pixel Art|8位像素|nes palette, chunky pixels
Voxel Art|体素艺术|3d cubes, voxel model
Low Poly|低多边形|faceted polygons, flat shading
Isometric Art|等距艺术|isometric view, diorama
3D Render|三维渲染|octane render, global illumination
Unreal Engine Render|虚幻引擎渲染|real-time render, lumen lighting
Clay Render|白模渲染|matte grey clay material
Wireframe|线框|glowing wireframe mesh
Cel Shaded 3D|三渲二|toon shading, outlines
Vaporwave|蒸汽波|pastel glitch, greek statues, grid sunset
Synthwave|合成波|neon grid, retro sunset, chrome
Outrun|Outrun复古赛车风|80s neon highway, sports car
Glitch Art|故障艺术|data moshing, rgb split
Datamosh|数据损坏艺术|pixel smearing, compression artifacts
ASCII Art|字符画|made of text characters
Fractal Art|分形艺术|infinite fractal patterns
Generative Art|生成艺术|algorithmic patterns, code art
Holographic Art|全息艺术|hologram, scanlines, glow
Matte Painting|数字绘景|vast environment, cinematic
Photobashing|照片拼贴绘景|photo textures blended with paint
Digital Collage|数字拼贴|layered cutouts, surreal
Vector Art|矢量艺术|clean paths, gradients
Line Icon|线性图标|thin line icon set
Isometric Game Art|等距游戏美术|game tiles, isometric
Retro Game Screenshot|复古游戏截图|crt scanlines, pixel hud
PS1 Graphics|PS1画面|low poly, texture warping, dithering
Game Boy Style|Game Boy风格|four shades of green pixels
Sprite Sheet|精灵图|game sprite sheet, animation frames
Hologram Interface|全息界面|floating ui, cyan glow
HUD Interface|抬头显示界面|sci-fi hud overlay
Terminal Green|绿色终端|green phosphor crt text
Y2K Render|千禧3D渲染|chrome blobs, bubble shapes
Blender Render|Blender渲染|cycles render, soft shadows
Toy Diorama Render|玩具微缩场景渲染|miniature diorama, tilt-shift
Infrared Render|红外渲染|false color infrared look
Neon Wireframe|霓虹线框|glowing neon lines on black
Cyber Glitch Portrait|赛博故障肖像|rgb split portrait, noise
Deep Dream|深梦|recursive eyes and dogs, psychedelic
Ray Traced Render|光线追踪渲染|accurate reflections, caustics
"""

DATA["weather"] = """
Rainy Day|雨天|rain, wet reflections, umbrellas
Heavy Storm|暴风雨|driving rain, dark clouds
Thunderstorm|雷雨|lightning bolts, dark sky
Snowfall|雪景|falling snow, white blanket
Blizzard|暴风雪|whiteout, swirling snow
Foggy Morning|雾晨|thick fog, muted shapes
Misty Mountains|云雾山峦|mist between peaks
Sunny Day|晴天|clear blue sky, bright sun
Cloudy Sky|多云天空|dramatic clouds
Rainbow After Rain|雨后彩虹|rainbow, wet glistening
Sandstorm|沙尘暴|dust haze, orange sky
Heatwave|热浪|shimmering heat haze
Frosty Morning|霜晨|frost on grass, cold light
Autumn Leaves|秋叶纷飞|falling red and gold leaves
Cherry Blossom Season|樱花季|pink petals drifting
Spring Bloom|春花烂漫|blooming flowers, fresh green
Summer Meadow|夏日草甸|tall grass, wildflowers
Winter Wonderland|冬日仙境|snow-covered trees, sparkling
Monsoon|季风雨季|torrential rain, lush green
Drizzle|毛毛雨|light rain, soft grey
Aurora Night|极光之夜|aurora borealis over snow
Starry Night Sky|星空|countless stars, milky way
Full Moon Night|满月之夜|bright full moon, silver light
Overcast Gloom|阴沉天|flat grey light
Windy Day|大风天|blowing hair and leaves
Morning Dew|晨露|dew drops on leaves
Smog|雾霾|hazy polluted air
Volcanic Eruption|火山爆发|lava glow, ash clouds
Tornado|龙卷风|funnel cloud, debris
Hailstorm|冰雹|hail stones, icy
Icy Lake|冰封湖面|frozen lake, cracks
Desert Noon|沙漠正午|harsh sun, dunes
Tropical Sunset|热带日落|palm silhouettes, orange sky
Plum Rain Season|梅雨季|drizzle, moss, humid
Golden Autumn|金秋|golden fields, harvest
"""

# Hand-picked crosses for the "blend" category: moods (adjective form) and
# painting media (noun form), each with its own hand-written translation.
BLEND_MOODS = [
    ("Dreamy", "梦幻", "soft hazy glow, ethereal"),
    ("Serene", "宁静", "calm, tranquil"),
    ("Melancholic", "忧郁", "wistful, muted"),
    ("Whimsical", "奇趣", "playful, imaginative"),
    ("Dark", "暗黑", "deep shadows, ominous"),
    ("Vibrant", "明艳", "bold saturated color"),
    ("Minimalist", "极简", "sparse, negative space"),
    ("Vintage", "复古", "aged, faded, nostalgic"),
    ("Cozy", "温馨", "warm, inviting"),
    ("Epic", "史诗", "grand scale, dramatic"),
    ("Gothic", "哥特", "gloomy, ornate, dark romance"),
    ("Futuristic", "未来感", "sleek, high tech"),
    ("Festive", "喜庆", "celebratory, red and gold"),
    ("Misty", "朦胧", "fog, soft edges"),
    ("Nocturnal", "夜色", "night, moonlit"),
    ("Sunlit", "阳光", "warm sunlight, bright"),
    ("Ethereal", "空灵", "otherworldly, luminous"),
    ("Rustic", "质朴", "earthy, handmade"),
    ("Psychedelic", "迷幻", "swirling, neon"),
    ("Elegant", "典雅", "refined, graceful"),
]
BLEND_MEDIA = [
    ("Watercolor", "水彩", "watercolor washes, paper texture"),
    ("Oil Painting", "油画", "oil paint, brushstrokes"),
    ("Ink Drawing", "墨线画", "ink lines"),
    ("Gouache", "水粉", "opaque gouache"),
    ("Pastel", "色粉", "soft pastel"),
    ("Charcoal Sketch", "炭笔速写", "charcoal marks"),
    ("Pencil Drawing", "铅笔画", "graphite shading"),
    ("Woodblock Print", "木版画", "woodblock print texture"),
    ("Acrylic Painting", "丙烯画", "acrylic paint"),
    ("Digital Painting", "数字绘画", "digital brushwork"),
    ("Ink Wash", "水墨", "ink wash, xuan paper"),
    ("Gongbi", "工笔", "fine gongbi lines, mineral color"),
    ("Collage", "拼贴", "cut paper collage"),
    ("Mosaic", "马赛克", "small tiles"),
    ("Stained Glass", "彩绘玻璃", "leaded glass"),
    ("Screen Print", "丝网印刷", "flat inks"),
    ("Linocut", "麻胶版", "carved linocut"),
    ("Pixel Art", "像素画", "pixel art, limited palette"),
    ("Paper Cut", "剪纸", "layered paper cutout"),
    ("Embroidery", "刺绣", "stitched threads"),
    ("Claymation", "黏土动画", "clay figures, stop motion"),
]


def slug(s):
    s = s.lower().replace("'", "").replace("&", "and")
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def rows():
    out = []
    for cat, block in DATA.items():
        zh_cat, tmpl, neg = CATEGORIES[cat]
        for line in block.strip().splitlines():
            en, zh, kw = [x.strip() for x in line.split("|")]
            prompt = tmpl.format(prompt="{prompt}", name_l=en.lower() if not en.isupper() else en, kw=kw)
            out.append((slug(en), en, zh, cat, prompt, neg))
    _, tmpl, neg = CATEGORIES["blend"]
    for men, mzh, mkw in BLEND_MOODS:
        for den, dzh, dkw in BLEND_MEDIA:
            en = f"{men} {den}"
            zh = f"{mzh}{dzh}"
            prompt = tmpl.format(prompt="{prompt}", mood_l=men.lower(), medium_l=den.lower(), mood_kw=mkw,
                                 medium_kw=dkw)
            out.append((slug(en), en, zh, "blend", prompt, neg))
    return out


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    rs = rows()
    for col, what in ((0, "id"), (1, "English name"), (2, "Chinese name")):
        seen = {}
        for r in rs:
            key = r[col].lower()
            assert key not in seen, f"duplicate {what}: {r[col]} ({seen[key]} and {r[3]})"
            seen[key] = r[3]
    for r in rs:
        assert all("\t" not in x and "\n" not in x for x in r), r
        assert re.search(r"[\u4e00-\u9fff]", r[2]), f"no Chinese in {r[2]}"
        assert "{prompt}" in r[4], r
    os.makedirs(os.path.join(ROOT, "data"), exist_ok=True)
    with open(os.path.join(ROOT, "data/styles.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tname_en\tname_zh\tcategory\tprompt\tnegative_prompt\n")
        for r in rs:
            f.write("\t".join(r) + "\n")
    with open(os.path.join(ROOT, "product/styles_table.c"), "w", encoding="utf-8") as f:
        f.write("/* styles_table.c — the built-in style catalog, generated by scripts/gen/gen_styles.py\n"
                " * from the same rows as data/styles.tsv. Do not edit by hand. */\n")
        f.write('#include "product/styles.h"\n\n')
        f.write("const t2i_style_category t2i_style_categories[] = {\n")
        for k, (zh, _, _) in CATEGORIES.items():
            f.write(f"    {{{c_str(k)}, {c_str(zh)}}},\n")
        f.write("};\n")
        f.write(f"const int t2i_style_n_categories = {len(CATEGORIES)};\n\n")
        f.write("const t2i_style t2i_style_table[] = {\n")
        for r in rs:
            f.write("    {" + ", ".join(c_str(x) for x in r) + "},\n")
        f.write("};\n")
        f.write(f"const int t2i_style_table_count = {len(rs)};\n")
        f.write(f"const t2i_styles t2i_styles_builtin_catalog = {{t2i_style_table, {len(rs)}, 1, NULL, NULL}};\n")
    counts = {}
    for r in rs:
        counts[r[3]] = counts.get(r[3], 0) + 1
    print(len(rs), "styles:", ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
