// The calls of IVOA VOSpace 2.1 that the cavern adapter makes (issue 15, item 7), as CANFAR's
// Cavern serves them (research/platform-apis.md §6): create a ContainerNode, read a node's
// properties or children, delete a node. Calls and verdicts are backends/http's; every call
// carries `Authorization: Bearer <token>`, which no error text ever shows.
//
// A node is named by its path under the service (`home/stepq/x`): the call goes to
// `<url>/nodes/<path>`, and the document's `uri` is `<authority_uri>/<path>`
// (vos://AUTHORITY~NAME/PATH: the server refuses a document whose uri is not the PUT path).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "backends/http/client.hpp"

namespace stepq::cavern {

inline constexpr const char* kVosNs = "http://www.ivoa.net/xml/VOSpace/v2.0";
inline constexpr const char* kQuota = "ivo://ivoa.net/vospace/core#quota";
inline constexpr const char* kLength = "ivo://ivoa.net/vospace/core#length";

struct Settings {
  std::string url;            // the service base: calls go to url + "/nodes/…"
  std::string authority_uri;  // vos://AUTHORITY~NAME, without trailing '/'
  std::string token;          // bearer token
  double connect_timeout_s = 10, total_timeout_s = 30;
};

// What the server said a node is (a `vos:node` document).
struct NodeDoc {
  std::string uri;
  std::string type;  // the xsi:type's local name: ContainerNode, DataNode, LinkNode, …
  std::vector<std::pair<std::string, std::string>> properties;  // uri → value
  std::vector<std::string> children;                            // container, detail=max: child uris
  std::optional<std::string> property(const std::string& uri) const;
};

// The document of an empty ContainerNode: no properties (quota and length are the server's) and
// the `<vos:nodes/>` the 2.1 schema requires.
std::string container_xml(const std::string& uri);
// nullopt when `xml` is not a vos:node document; `error` then says why (for a step's reason).
std::optional<NodeDoc> parse_node(const std::string& xml, std::string* error);
// The path part of a node uri (what follows vos://AUTHORITY~NAME/), "" when it has none.
std::string path_of(const std::string& uri);

http::Outcome put_container(const Settings& s, const std::string& path);
// detail: "min", "max" (with the children of a container) or "properties".
http::Outcome get_node(const Settings& s, const std::string& path, const std::string& detail);
http::Outcome delete_node(const Settings& s, const std::string& path);

// Deletes the node and, as Cavern refuses a container that is not empty (400 "not empty"),
// what it holds first, depth first. Absent is done (404 → ok). Fails with the first call that
// fails (or retries: a 503 asks for the whole delete again, which takes up where it was).
http::Outcome delete_tree(const Settings& s, const std::string& path);

}  // namespace stepq::cavern
