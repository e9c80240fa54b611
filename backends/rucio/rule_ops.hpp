// What the rucio and srcnet adapters do with replication rules, step by step: a data step
// creates its rule (or finds the one it made before) and waits, holding no thread, until the rule
// is OK; a work step extends the lease (lifetime) of the rules its session's data steps use; a
// release step deletes the rules its session created. Shared by both adapters.
//
// Which rule is a step's: the key Rucio keeps unique, (scope, name, account, rse_expression,
// copies = 1), looked up before anything is created; the rule's comment is the step's
// external_name, so a release deletes only what its own session created. A rule found on the key
// with another comment was made by someone else (another session on the same DID): a data step
// uses it, a release leaves it alone.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "backends/live/adapter.hpp"
#include "rucio_client.hpp"

namespace stepq::rucio {

// The DID of each data step: one for every step ("did") or per step id ("dids"); "{session}" in
// either becomes the session's number, so sessions of one template can ask for their own data.
struct Dids {
  std::string single;
  std::map<std::string, std::string> per_step;
  // "" when the step has none.
  std::string of(const std::string& step_id, std::uint64_t session) const;
};
Did split_did(const std::string& did);  // "scope:name"; the caller has validated it

// Reads "did" / "dids": each "scope:name", "dids" keyed by the id of a data step; when
// `data_kind`, every step of the kind needs one.
Dids read_dids(const live::AdapterConfig& cfg, bool data_kind);
// url, auth_url, account, username, password_env / password_file, *_timeout_s.
Settings read_settings(const live::AdapterConfig& cfg);
const std::vector<std::string>& settings_keys();  // the keys read_settings reads

struct RuleSettings {
  std::string rse_expression;
  long lifetime_s = 86400;
  std::string activity = "User Subscriptions";
  double poll_interval_s = 10;  // scenario seconds, as every wait of the engine (--time-scale)
  double max_wait_s = 3600;     // wall seconds: replication takes what it takes
};
// rse_expression (default `rse_default`; required when that is ""), lifetime_s, activity,
// poll_interval_s, max_wait_s.
RuleSettings read_rule_settings(const live::AdapterConfig& cfg, const std::string& rse_default = "");
const std::vector<std::string>& rule_keys();

class RuleOps {
 public:
  RuleOps(Settings s, RuleSettings r, Dids d, std::string instance)
      : client_(std::move(s)), r_(std::move(r)), dids_(std::move(d)), instance_(std::move(instance)) {}

  OpResult data(const StepContext& c);
  OpResult extend(const StepContext& c);
  OpResult release(const StepContext& c);
  const Client& client() const { return client_; }

 private:
  // What a data step makes of its rule: OK completes, still replicating waits, STUCK fails.
  OpResult judge(const nlohmann::json& rule, const http::Outcome& read, const Did& did, const std::string& name);
  OpResult failed(const http::Outcome& o) const;
  // The session's data steps that have a DID here, with each one's external name.
  template <class F>
  void each_data_step(const StepContext& c, F&& f) const;
  std::string remembered(const std::string& name);
  void remember(const std::string& name, const std::string& id);
  double waited(const std::string& name, bool done);  // seconds since first_run_; done: forget it

  Client client_;
  RuleSettings r_;
  Dids dids_;
  std::string instance_;
  std::mutex m_;
  std::map<std::string, std::string> ids_;  // external name → rule id, saves a lookup per poll
  // external name → when this process first ran the step (wall clock): with a rule that expires
  // and is made again, its created_at alone would never reach max_wait_s.
  std::map<std::string, double> first_run_;
};

}  // namespace stepq::rucio
