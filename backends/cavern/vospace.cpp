#include "vospace.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>

namespace stepq::cavern {

namespace {

constexpr const char* kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

// Each segment percent-encoded: names from a server's listing may hold anything.
std::string encode_path(const std::string& path) {
  std::string out;
  std::size_t from = 0;
  while (from <= path.size()) {
    const auto slash = path.find('/', from);
    const auto end = slash == std::string::npos ? path.size() : slash;
    out += (from == 0 ? "" : "/") + http::url_encode(path.substr(from, end - from));
    if (slash == std::string::npos) break;
    from = slash + 1;
  }
  return out;
}

http::Request request(const Settings& s, const std::string& method, const std::string& path,
                      const std::string& query = "") {
  http::Request r;
  r.method = method;
  r.url = s.url + "/nodes/" + encode_path(path) + query;
  r.connect_timeout_s = s.connect_timeout_s;
  r.total_timeout_s = s.total_timeout_s;
  if (!s.token.empty()) r.headers.emplace_back("Authorization", "Bearer " + s.token);
  return r;
}

bool is_vos(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
         std::string(reinterpret_cast<const char*>(n->ns->href)) == kVosNs &&
         std::string(reinterpret_cast<const char*>(n->name)) == name;
}

std::string attr(const xmlNode* n, const char* name, const char* ns = nullptr) {
  xmlChar* v = ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) : xmlGetNoNsProp(n, BAD_CAST name);
  if (!v) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string text(const xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

// The local name of a QName-valued attribute (xsi:type="vos:ContainerNode"), when its prefix is
// the VOSpace namespace's in that element's scope.
std::string vos_type(xmlDoc* doc, xmlNode* n) {
  const std::string q = attr(n, "type", kXsiNs);
  const auto colon = q.find(':');
  const std::string prefix = colon == std::string::npos ? "" : q.substr(0, colon);
  const xmlNs* ns = xmlSearchNs(doc, n, prefix.empty() ? nullptr : BAD_CAST prefix.c_str());
  if (!ns || !ns->href || std::string(reinterpret_cast<const char*>(ns->href)) != kVosNs) return q;
  return q.substr(colon == std::string::npos ? 0 : colon + 1);
}

bool not_empty(const http::Outcome& o) {
  return o.response.status == 400 && o.response.body.find("not empty") != std::string::npos;
}

http::Outcome done(http::Outcome o) {
  o.verdict = http::Outcome::Verdict::ok;
  o.error.clear();
  return o;
}

http::Outcome failed(http::Outcome o, const std::string& why) {
  o.verdict = http::Outcome::Verdict::fail;
  o.error = why;
  return o;
}

http::Outcome delete_at(const Settings& s, const std::string& path, int depth) {
  // A listing is one page (the server's limit), so a big container takes several rounds.
  for (int round = 0;; ++round) {
    http::Outcome d = delete_node(s, path);
    if (d.response.status == 404) return done(std::move(d));
    if (!not_empty(d)) return d;
    if (depth >= 32 || round >= 100) {
      const std::string why =
          d.error + " (still not empty after deleting what it held " + std::to_string(round) + " times)";
      return failed(std::move(d), why);
    }
    http::Outcome g = get_node(s, path, "max");
    if (g.response.status == 404) return done(std::move(g));
    if (g.verdict != http::Outcome::Verdict::ok) return g;
    std::string err;
    const auto node = parse_node(g.response.body, &err);
    if (!node) return failed(std::move(g), "GET " + http::redacted(s.url) + "/nodes/" + path + ": " + err);
    for (const std::string& child : node->children) {
      const std::string cp = path_of(child);
      // Never follow a listing out of the container being deleted.
      if (cp.size() <= path.size() + 1 || cp.compare(0, path.size() + 1, path + "/") != 0)
        return failed(std::move(g),
                      "GET " + http::redacted(s.url) + "/nodes/" + path + ": child " + child + " is not inside it");
      http::Outcome c = delete_at(s, cp, depth + 1);
      if (c.verdict != http::Outcome::Verdict::ok) return c;
    }
  }
}

}  // namespace

std::optional<std::string> NodeDoc::property(const std::string& uri) const {
  for (const auto& [k, v] : properties)
    if (k == uri) return v;
  return std::nullopt;
}

std::string container_xml(const std::string& uri) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") + "<vos:node xmlns:vos=\"" + kVosNs +
         "\" xmlns:xsi=\"" + kXsiNs + "\" uri=\"" + xml_escape(uri) +
         "\" xsi:type=\"vos:ContainerNode\">\n  <vos:properties/>\n  <vos:nodes/>\n</vos:node>\n";
}

std::optional<NodeDoc> parse_node(const std::string& xml, std::string* error) {
  // No network, no entities from outside, and no messages on stderr: errors come back here.
  const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  std::unique_ptr<xmlDoc, void (*)(xmlDoc*)> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "node.xml", nullptr, opts), &xmlFreeDoc);
  const auto fail = [&](const std::string& why) -> std::optional<NodeDoc> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    return fail(std::string("not XML") + (e && e->message ? ": " + std::string(e->message) : ""));
  }
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !is_vos(root, "node")) return fail("not a VOSpace node document (no vos:node element)");
  NodeDoc n;
  n.uri = attr(root, "uri");
  n.type = vos_type(doc.get(), root);
  for (xmlNode* c = root->children; c; c = c->next) {
    if (is_vos(c, "properties")) {
      for (xmlNode* p = c->children; p; p = p->next)
        if (is_vos(p, "property")) n.properties.emplace_back(attr(p, "uri"), text(p));
    } else if (is_vos(c, "nodes")) {
      for (xmlNode* p = c->children; p; p = p->next)
        if (is_vos(p, "node")) n.children.push_back(attr(p, "uri"));
    }
  }
  return n;
}

std::string path_of(const std::string& uri) {
  const std::string scheme = "vos://";
  if (uri.compare(0, scheme.size(), scheme) != 0) return "";
  const auto slash = uri.find('/', scheme.size());
  if (slash == std::string::npos) return "";
  std::string p = uri.substr(slash + 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

http::Outcome put_container(const Settings& s, const std::string& path) {
  http::Request r = request(s, "PUT", path);
  r.headers.emplace_back("Content-Type", "text/xml");
  r.body = container_xml(s.authority_uri + "/" + path);
  return http::call(r);
}

http::Outcome get_node(const Settings& s, const std::string& path, const std::string& detail) {
  return http::call(request(s, "GET", path, "?detail=" + detail));
}

http::Outcome delete_node(const Settings& s, const std::string& path) { return http::call(request(s, "DELETE", path)); }

http::Outcome delete_tree(const Settings& s, const std::string& path) { return delete_at(s, path, 0); }

}  // namespace stepq::cavern
