/* A small Markdown renderer and code highlighter for the agent's replies (no dependencies, no CDN).
 *
 * Why written here: the page ships without a build step or third-party downloads, and the agent's replies use
 * a small subset (headings, lists, emphasis, inline code, fenced code, links, tables). Everything is
 * HTML-escaped first, so model output can never inject markup.
 */
(function () {
  "use strict";

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  const KEYWORDS = {
    python: "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case self",
    yaml: "true false null yes no",
    bash: "if then else fi for do done while case esac function export cd echo pip python make",
    json: "true false null",
  };
  const ALIASES = { py: "python", python3: "python", yml: "yaml", sh: "bash", shell: "bash", console: "bash" };

  /* One regex per language family: comments, strings, numbers, words; the rest is copied escaped. */
  function highlight(code, lang) {
    lang = ALIASES[(lang || "").toLowerCase()] || (lang || "").toLowerCase();
    if (!KEYWORDS[lang]) lang = "python";
    const words = new Set(KEYWORDS[lang].split(" "));
    const comment = lang === "json" ? "(?!)" : "#[^\\n]*";
    const pattern = new RegExp(
      "(" + comment + ")|(\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*')" +
      "|(\\b\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?\\b)|(@[A-Za-z_][\\w.]*)|([A-Za-z_]\\w*)", "g");
    let out = "";
    let last = 0;
    let previous = "";
    code.replace(pattern, function (match, com, str, num, deco, word, offset) {
      out += escapeHtml(code.slice(last, offset));
      last = offset + match.length;
      let cls = null;
      if (com) cls = "c";
      else if (str) cls = "s";
      else if (num) cls = "n";
      else if (deco) cls = "d";
      else if (word && words.has(word)) cls = "k";
      else if (word && (previous === "def" || previous === "class")) cls = "f";
      if (word) previous = word;
      out += cls ? '<span class="tok-' + cls + '">' + escapeHtml(match) + "</span>" : escapeHtml(match);
      return match;
    });
    return out + escapeHtml(code.slice(last));
  }

  function safeUrl(url) {
    return /^(https?:\/\/|\/|#)/i.test(url) ? url : "#";
  }

  /* Inline markup on already-escaped text: code spans first (their content is left alone). */
  function inline(text) {
    const spans = [];
    text = text.replace(/`([^`\n]+)`/g, function (_, code) {
      spans.push("<code>" + code + "</code>");
      return "\u0000" + (spans.length - 1) + "\u0000";
    });
    text = text
      .replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[^\w*])\*([^*\n]+)\*(?!\w)/g, "$1<em>$2</em>")
      .replace(/(^|[^\w])_([^_\n]+)_(?!\w)/g, "$1<em>$2</em>")
      .replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, function (_, label, url) {
        return '<a href="' + safeUrl(url) + '" target="_blank" rel="noopener">' + label + "</a>";
      });
    return text.replace(/\u0000(\d+)\u0000/g, function (_, i) { return spans[Number(i)]; });
  }

  function codeBlock(code, lang) {
    const label = lang ? '<span class="lang">' + escapeHtml(lang) + "</span>" : "";
    return '<pre class="code">' + label + "<code>" + highlight(code, lang) + "</code></pre>";
  }

  function table(rows) {
    const cells = function (row) {
      return row.trim().replace(/^\||\|$/g, "").split("|").map(function (cell) { return inline(cell.trim()); });
    };
    const head = cells(rows[0]);
    let html = '<div class="table-wrap"><table><thead><tr>' +
      head.map(function (c) { return "<th>" + c + "</th>"; }).join("") + "</tr></thead><tbody>";
    rows.slice(2).forEach(function (row) {
      html += "<tr>" + cells(row).map(function (c) { return "<td>" + c + "</td>"; }).join("") + "</tr>";
    });
    return html + "</tbody></table></div>";
  }

  /* Block structure line by line; fenced code is taken raw (escaped once in highlight). */
  function render(source) {
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let paragraph = [];
    let list = null;
    const flush = function () {
      if (paragraph.length) out.push("<p>" + inline(escapeHtml(paragraph.join("\n"))).replace(/\n/g, "<br>") + "</p>");
      paragraph = [];
      if (list) { out.push("</" + list + ">"); list = null; }
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const fence = line.match(/^\s*(```|~~~)\s*([\w+-]*)/);
      if (fence) {
        flush();
        const body = [];
        i++;
        while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
        out.push(codeBlock(body.join("\n"), fence[2]));
        continue;
      }
      if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?[\s:-]+\|[\s|:-]*$/.test(lines[i + 1])) {
        flush();
        const rows = [];
        while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++]);
        i--;
        out.push(table(rows));
        continue;
      }
      const heading = line.match(/^(#{1,4})\s+(.*)$/);
      if (heading) {
        flush();
        const level = heading[1].length + 1;
        out.push("<h" + level + ">" + inline(escapeHtml(heading[2])) + "</h" + level + ">");
        continue;
      }
      const item = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
      if (item) {
        const kind = /\d/.test(item[1]) ? "ol" : "ul";
        if (paragraph.length) { const keep = list; list = null; flush(); list = keep; }
        if (list !== kind) { if (list) out.push("</" + list + ">"); out.push("<" + kind + ">"); list = kind; }
        out.push("<li>" + inline(escapeHtml(item[2])) + "</li>");
        continue;
      }
      if (!line.trim()) { flush(); continue; }
      if (/^\s*(---|\*\*\*)\s*$/.test(line)) { flush(); out.push("<hr>"); continue; }
      if (list && /^\s{2,}\S/.test(line)) {
        out[out.length - 1] = out[out.length - 1].replace(/<\/li>$/, " " + inline(escapeHtml(line.trim())) + "</li>");
        continue;
      }
      if (list) { out.push("</" + list + ">"); list = null; }
      paragraph.push(line);
    }
    flush();
    return out.join("\n");
  }

  window.MD = { render: render, highlight: highlight, escapeHtml: escapeHtml };
})();
