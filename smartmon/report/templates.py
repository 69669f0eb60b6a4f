"""Jinja2 sources of the report (kept in Python so they ship with the package without
package-data settings). Both loop over the same sections; see render.py."""

HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{ area_name }} {{ period_zh }} {{ period.label }}: consultation report</title>
<style>
  body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif;
         margin: 0; color: #1d2630; background: #f4f6f8; line-height: 1.45; }
  header { background: #17324d; color: #fff; padding: 20px 32px; }
  header h1 { margin: 0 0 6px; font-size: 24px; }
  header p { margin: 2px 0; color: #cfe0f1; font-size: 14px; }
  main { max-width: 1180px; margin: 0 auto; padding: 16px 32px 40px; }
  nav { margin: 12px 0 4px; font-size: 14px; }
  nav a { margin-right: 14px; color: #17324d; }
  section { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 12px 22px 18px; margin: 16px 0; }
  h2 { font-size: 19px; border-bottom: 2px solid #17324d; padding-bottom: 4px; }
  h2 small { color: #61707f; font-weight: normal; margin-left: 8px; }
  table { border-collapse: collapse; margin: 10px 0 14px; font-size: 13px; }
  caption { text-align: left; font-weight: bold; padding: 4px 0; color: #33414f; }
  th, td { border: 1px solid #d5dbe1; padding: 3px 8px; text-align: left; vertical-align: top; }
  th { background: #eaeff4; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .msg { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; margin: 8px 0; }
  figure { margin: 12px 0; }
  figure img { max-width: 100%; border: 1px solid #d5dbe1; }
  figcaption { font-size: 12px; color: #61707f; }
  footer { color: #61707f; font-size: 12px; text-align: center; padding: 12px; }
</style>
</head>
<body>
<header>
  <h1>{{ area_name }} 环境质量会商报告 · {{ period_zh }} {{ period.label }}</h1>
  <p>Consultation report · tier {{ area.tier }} ({{ tier_zh }}) · code {{ area.code }}{% if area.requested_code != area.code %} (asked as {{ area.requested_code }}){% endif %} · period {{ period.kind }} {{ period.start }}{% if period.end != period.start %} to {{ period.end }}{% endif %}</p>
  <p>Generated {{ generated }} from the smartmon lake; every figure below is read from its gold and silver tables.</p>
</header>
<main>
<nav>{% for s in sections %}<a href="#{{ s.id }}">{{ loop.index }}. {{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.id }}">
  <h2>{{ loop.index }}. {{ s.title }}<small>{{ s.zh }}</small></h2>
  {% if s.message %}<p class="msg">{{ s.message }}</p>{% endif %}
  {% for t in s.items %}
  {% if t.kind == "para" %}
  <p>{{ t.text }}</p>
  {% elif t.kind == "image" %}
  <figure><img src="{{ t.file }}" alt="{{ t.alt }}"><figcaption>{{ t.alt }} ({{ t.file }})</figcaption></figure>
  {% else %}
  <table>
    {% if t.caption %}<caption>{{ t.caption }}</caption>{% endif %}
    <thead><tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for row in t.rows %}{% set colour = t.colours[loop.index0] %}
      <tr>{% for c in row %}{% if loop.index0 == t.colour_col and colour %}<td style="background:{{ colour }};color:{{ colour | fg }}">{{ c }}</td>{% else %}<td{% if c | isnum %} class="num"{% endif %}>{{ c }}</td>{% endif %}{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
  {% endfor %}
</section>
{% endfor %}
</main>
<footer>smartmon consultation report · {{ area.slug }} · {{ period.kind }}-{{ period.label }}</footer>
</body>
</html>
"""

MARKDOWN = """# {{ area_name }} 环境质量会商报告 · {{ period_zh }} {{ period.label }}

Consultation report · tier {{ area.tier }} ({{ tier_zh }}) · code {{ area.code }}{% if area.requested_code != area.code %} (asked as {{ area.requested_code }}){% endif %} · period {{ period.kind }} {{ period.start }}{% if period.end != period.start %} to {{ period.end }}{% endif %}


Generated {{ generated }} from the smartmon lake; every figure is read from its gold and silver tables.

{% for s in sections %}
## {{ loop.index }}. {{ s.title }} ({{ s.zh }})

{% if s.message %}
> {{ s.message }}

{% endif %}
{% for t in s.items %}
{% if t.kind == "para" %}
{{ t.text }}

{% elif t.kind == "image" %}
![{{ t.alt }}]({{ t.file }})

{% else %}
{% if t.caption %}
*{{ t.caption }}*

{% endif %}
| {% for h in t.headers %}{{ h | cell }} | {% endfor %}

|{% for h in t.headers %} --- |{% endfor %}

{% for row in t.rows %}
| {% for c in row %}{{ c | cell }} | {% endfor %}

{% endfor %}

{% endif %}
{% endfor %}
{% endfor %}
"""
