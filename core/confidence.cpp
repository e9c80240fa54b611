#include "confidence.hpp"

#include <algorithm>
#include <Eigen/Dense>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace stepq {

double student_t_quantile(int df, double p) {
  if (df < 1) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double Interval::relative_half_width() const {
  if (mean != 0) return half_width() / std::fabs(mean);
  return half_width() == 0 ? 0 : std::numeric_limits<double>::infinity();
}

Interval confidence_interval(const std::vector<double>& xs, double level) {
  Interval r;
  if (xs.empty()) return r;
  double s = 0;
  for (double x : xs) s += x;
  const double n = static_cast<double>(xs.size());
  r.mean = s / n;
  r.lo = r.hi = r.mean;
  if (xs.size() < 2) return r;
  double ss = 0;
  for (double x : xs) ss += (x - r.mean) * (x - r.mean);
  const double h = student_t_quantile(static_cast<int>(xs.size()) - 1, (1 + level) / 2) * std::sqrt(ss / (n - 1) / n);
  r.lo = r.mean - h;
  r.hi = r.mean + h;
  return r;
}

Interval control_variate_interval(const std::vector<double>& y, const std::vector<std::vector<double>>& controls,
                                  const std::vector<double>& control_means, double level) {
  const std::size_t R = y.size(), q = controls.size();
  if (control_means.size() != q) throw std::invalid_argument("control variates: one known mean per control");
  for (const auto& c : controls)
    if (c.size() != R) throw std::invalid_argument("control variates: one value of each control per replication");
  if (R < q + 2) throw std::invalid_argument("control variates: need at least 2 more replications than controls");
  const auto n = static_cast<double>(R);
  const Eigen::Map<const Eigen::VectorXd> yv(y.data(), static_cast<Eigen::Index>(R));
  Eigen::MatrixXd C(R, q);  // the controls, centred
  Eigen::VectorXd d(q);     // c̄ − μ
  for (std::size_t j = 0; j < q; ++j) {
    const Eigen::Map<const Eigen::VectorXd> c(controls[j].data(), static_cast<Eigen::Index>(R));
    C.col(static_cast<Eigen::Index>(j)) = c.array() - c.mean();
    d(static_cast<Eigen::Index>(j)) = c.mean() - control_means[j];
  }
  const Eigen::VectorXd dy = yv.array() - yv.mean();
  const Eigen::MatrixXd S = C.transpose() * C;
  const Eigen::VectorXd s_cy = C.transpose() * dy;
  if (!(S.diagonal().array() > 0).all()) throw std::invalid_argument("control variates: a control is constant");
  // Solved on the correlation scale (unit diagonal), so that one threshold tells collinear
  // controls whatever their units.
  const Eigen::VectorXd inv_sd = S.diagonal().cwiseSqrt().cwiseInverse();
  Eigen::FullPivLU<Eigen::MatrixXd> lu(inv_sd.asDiagonal() * S * inv_sd.asDiagonal());
  lu.setThreshold(1e-10);
  if (lu.rank() < static_cast<Eigen::Index>(q))
    throw std::invalid_argument("control variates: a control is a combination of the others");
  const Eigen::VectorXd beta = inv_sd.asDiagonal() * lu.solve(inv_sd.asDiagonal() * s_cy);
  const Eigen::VectorXd g = inv_sd.asDiagonal() * lu.solve(inv_sd.asDiagonal() * d);  // S⁻¹(c̄ − μ)
  Interval r;
  r.mean = yv.mean() - beta.dot(d);
  // The intercept's variance: s²(1/R + (c̄ − μ)ᵀS⁻¹(c̄ − μ)), s² on R − 1 − q degrees of freedom.
  const double rss = std::max(dy.squaredNorm() - beta.dot(s_cy), 0.0);
  const double s2 = rss / (n - static_cast<double>(q) - 1);
  const double h =
      student_t_quantile(static_cast<int>(R - q - 1), (1 + level) / 2) * std::sqrt(s2 * (1 / n + d.dot(g)));
  r.lo = r.mean - h;
  r.hi = r.mean + h;
  return r;
}

}  // namespace stepq
