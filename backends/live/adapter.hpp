// What every platform adapter of the platforms file shares (issue 15): how it reads its settings
// for one kind, the name of what a step creates, and a Services base for the ops it does not run.
//
// An adapter is one function, `std::unique_ptr<Services> make(const AdapterConfig&)`, listed in
// platforms.cpp's table. It reads its keys through the AdapterConfig (a mistake throws
// ScenarioError "FILE: POINTER: …", exit 2), and returns the Services that runs the kind's
// steps — one object per kind, shared by every worker thread, so it must be thread-safe.
//
// Settings come from the kind's entry (`/kinds/NAME`) or, for keys it does not give, from the
// file's shared entry for the adapter (`/adapters/ADAPTER`), so a URL and a token are written once
// for the launch, poll and delete kinds of one service.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/interfaces.hpp"
#include "core/json_node.hpp"
#include "core/scenario.hpp"

namespace stepq::live {

class AdapterConfig {
 public:
  AdapterConfig(jsonc::Node kind_entry, jsonc::Node shared, const Scenario& sc, int kind, std::string adapter,
                std::string instance)
      : entry_(std::move(kind_entry)),
        shared_(std::move(shared)),
        sc_(sc),
        kind_(kind),
        adapter_(std::move(adapter)),
        instance_(std::move(instance)) {}

  // The kind's own value of `key`, else the shared entry's; `present()` false when neither has it.
  jsonc::Node operator[](std::string_view key) const;
  // Refuses any key of either entry not in `allowed` ("adapter" and "comment" are always allowed).
  void keys(const std::vector<std::string>& allowed) const;
  // Refuses a kind whose op is not in `ops`: "the skaha adapter runs launch, poll and delete kinds…".
  void ops(const std::vector<Op>& ops) const;
  // A secret named by "<what>_env" (an environment variable) or "<what>_file" (the file, without
  // its trailing newline); "" when neither is given. Read now; never printed.
  std::string secret(const std::string& what) const;
  // A required http:// or https:// URL, without trailing '/'.
  std::string url(const std::string& key = "url") const;
  // A positive number of seconds, or `fallback` when absent.
  double seconds(const std::string& key, double fallback) const;
  // Fails at the kind's entry ("FILE: /kinds/NAME: …").
  [[noreturn]] void fail(const std::string& what) const { entry_.fail(what); }

  const Scenario& scenario() const { return sc_; }
  int kind() const { return kind_; }
  const KindSpec& kind_spec() const { return sc_.kinds[kind_]; }
  const std::string& adapter() const { return adapter_; }
  // The prefix of every external name (external_name): the file's "instance", else derived
  // from the database, so that a re-run against the same database finds what it created.
  const std::string& instance() const { return instance_; }
  // Per template: the template's own value in the object at `key` (template name → value), else
  // the value at `single` for every template; `node.present()` false when neither applies.
  jsonc::Node per_template(const std::string& single, const std::string& key, int tmpl) const;
  // Fails unless per_template() finds a value for every template that has a step of this kind.
  void require_per_template(const std::string& single, const std::string& key) const;

 private:
  jsonc::Node entry_, shared_;
  const Scenario& sc_;
  int kind_;
  std::string adapter_, instance_;
};

// The name of what one step of one session creates — a container, a Skaha session, a VOSpace
// node, a rule's comment: "<instance>-<session>-<step id>", lower case, only [a-z0-9-] (other
// characters become '-'), at most 63 characters (a Kubernetes label value; a longer one keeps
// its start and ends in a hash of the whole). The same on every attempt and in every process:
// a step run again after a crash looks it up before it creates anything (issue 15, item 8).
std::string external_name(const std::string& instance, const StepContext& c);
// The same for another step of the session (a poll finds its launch's container by this).
std::string external_name(const std::string& instance, std::uint64_t session, const std::string& step_id);
// The same for the session as a whole (what several of its steps share): "<instance>-<session>".
std::string external_name(const std::string& instance, std::uint64_t session);

// "stepq-" and 8 hex digits of a hash of the database's identity (its URL without a password,
// a SQLite path made absolute): the default instance.
std::string default_instance(const std::string& db_identity);

// A Services whose every op fails "the ADAPTER adapter does not run op OP" (AdapterConfig::ops
// refuses such kinds when the file is loaded, so this is a guard, not a path); adapters override
// the ops they run.
class AdapterServices : public Services {
 public:
  explicit AdapterServices(std::string adapter) : adapter_(std::move(adapter)) {}
  OpResult pull_image(const StepContext& c) override { return unsupported(c); }
  OpResult allocate_storage(const StepContext& c) override { return unsupported(c); }
  OpResult stage_data(const StepContext& c) override { return unsupported(c); }
  OpResult launch(const StepContext& c) override { return unsupported(c); }
  OpResult poll(const StepContext& c) override { return unsupported(c); }
  OpResult work(const StepContext& c) override { return unsupported(c); }
  OpResult remove(const StepContext& c) override { return unsupported(c); }
  OpResult cleanup(const StepContext& c) override { return unsupported(c); }
  OpResult pushback(const StepContext& c) override { return unsupported(c); }

 protected:
  OpResult unsupported(const StepContext& c) const;
  std::string adapter_;
};

using AdapterFactory = std::unique_ptr<Services> (*)(const AdapterConfig&);

}  // namespace stepq::live
